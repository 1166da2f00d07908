// Command-line arguments of the load tool: parsed and checked here, so a bad one
// exits with code 2 and a one-line message before anything connects.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { isIdempotent } from '../parser/request.js';
import { parseProxy } from '../conn/proxy-env.js';

export const USAGE = `usage: http-client-pool [url] [-c concurrency] [-n requests | -d duration] [-R rate] [--size N]
                        [--pipelining N] [-m method] [-H 'name: value']... [--body text|@file] [--timeout ms]
                        [--workers N] [--warmup duration] [--expect status] [-S socket] [--ca|--cert|--key file]
                        [--insecure] [--max-requests-per-conn N] [--max-conn-age duration]
                        [--backend raw|node] [--proxy url] [--latency-table] [--svg file] [--json]

  url            target; without it an embedded server on a free loopback port is started
  -c N           requests in flight at once (default 16)
  -n N           stop after N requests
  -d DURATION    stop after this long: 10s, 500ms, 2m (default 10s unless -n is given)
  -R, --rate N   open model: N requests per second on a fixed timetable, latency measured from
                 each request's intended send time (corrected for coordinated omission); -c
                 still bounds the requests in flight (a request due with none free is late)
  --workers N    N worker threads, each with its own pool (of --size sockets) and its share of
                 -c, -R and -n; results merged exactly (default 1: this thread)
  --warmup D     run for D first and count none of it
  --expect S     a response of any other status counts as failed (UNEXPECTED_STATUS_<status>)
  --size N       sockets per origin (default 8)
  --pipelining N requests in flight per socket (default 1; raw backend; GET, HEAD, OPTIONS,
                 PUT, DELETE, TRACE only, and not with -H 'connection: close')
  -m METHOD      request method (default GET, or POST with --body)
  -H 'k: v'      request header, repeatable
  --body X       request body: text, or @path to read a file
  --timeout MS   whole-request timeout per request (default 0: none)
  --insecure     do not verify TLS certificates
  --ca FILE      trust this CA (PEM); --cert FILE and --key FILE: a client certificate
  -S, --socket-path P   connect to this unix socket (the URL still gives Host and path)
  --max-requests-per-conn N   a socket closes after N requests and the slot re-dials
  --max-conn-age D            a socket older than D (±10%) closes after its current request
  --backend B    raw (default: raw sockets) or node (node:http agents)
  --proxy URL    through this proxy: http://[user:pass@]host:port or https://... (one CONNECT
                 tunnel per socket for https:// URLs, absolute form for http://)
  --latency-table  print the whole latency distribution (HdrHistogram-style percentiles)
  --svg FILE     write a picture of the run: latency percentiles, req/s, per-socket shares
  --json         print the report as one JSON object on stdout`;

export interface Args {
  url: string | null;
  concurrency: number;
  requests: number | null;
  durationMs: number | null;
  /** Requests per second on a fixed timetable (open model); null: closed loop. */
  rate: number | null;
  workers: number;
  warmupMs: number | null;
  /** The only status that counts as success; null: any whole response does. */
  expect: number | null;
  socketPath: string | null;
  /** Read at parse time, so an unreadable file is a usage error. */
  ca: Buffer | null;
  cert: Buffer | null;
  key: Buffer | null;
  maxRequestsPerConn: number;
  maxConnAgeMs: number;
  latencyTable: boolean;
  svg: string | null;
  size: number;
  pipelining: number;
  method: string;
  headers: Record<string, string[]>;
  body: Buffer | null;
  timeout: number;
  insecure: boolean;
  backend: 'raw' | 'node';
  /** The proxy URL, checked; null: direct. */
  proxy: string | null;
  json: boolean;
  help: boolean;
}

/** A bad command line: the tool prints the message and the usage, and exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}; see --help`);
  }
}

/**
 * Every flag, one entry each: parseArgs's `type`, `short`, `multiple`, and `takes`, what
 * its value is (for the message when it is missing).
 */
const FLAGS = {
  c: { type: 'string', short: 'c', takes: 'the number of requests in flight, an integer >= 1' },
  n: { type: 'string', short: 'n', takes: 'a number of requests, an integer >= 1' },
  d: { type: 'string', short: 'd', takes: 'a duration like 10s, 500ms or 2m' },
  size: { type: 'string', takes: 'the number of sockets per origin, an integer >= 1' },
  pipelining: { type: 'string', takes: 'the requests in flight per socket, an integer >= 1' },
  m: { type: 'string', short: 'm', takes: 'a request method like GET or POST' },
  H: { type: 'string', short: 'H', multiple: true, takes: "a header, 'name: value'" },
  body: { type: 'string', takes: 'the request body, text or @file' },
  timeout: { type: 'string', takes: 'milliseconds, an integer >= 0' },
  insecure: { type: 'boolean' },
  backend: { type: 'string', takes: 'raw or node' },
  proxy: { type: 'string', takes: 'a proxy URL, http:// or https://' },
  json: { type: 'boolean' },
  rate: { type: 'string', short: 'R', takes: 'requests per second, a positive number' },
  workers: { type: 'string', takes: 'a number of worker threads, an integer >= 1' },
  warmup: { type: 'string', takes: 'a duration like 10s, 500ms or 2m' },
  expect: { type: 'string', takes: 'an HTTP status from 100 to 599' },
  'socket-path': { type: 'string', short: 'S', takes: 'the path of a unix socket' },
  ca: { type: 'string', takes: 'a PEM file' },
  cert: { type: 'string', takes: 'a PEM file' },
  key: { type: 'string', takes: 'a PEM file' },
  'max-requests-per-conn': { type: 'string', takes: 'an integer >= 1' },
  'max-conn-age': { type: 'string', takes: 'a duration like 10s, 500ms or 2m' },
  'latency-table': { type: 'boolean' },
  svg: { type: 'string', takes: 'the path of the picture to write' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; takes?: string }>;

type FlagSpec = { type: 'string' | 'boolean'; short?: string; takes?: string };

/** Edit distance, for the nearest known flag. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** Other load tools' names (autocannon's, wrk's) for flags of ours. */
const OTHER_TOOLS: Record<string, string> = {
  connections: '-c', duration: '-d', amount: '-n', requests: '-n', method: '-m', header: '-H', headers: '-H', threads: '--workers',
};

/** The known flag nearest to `raw` (--sizee -> --size, --connections -> -c), if one is near enough to be meant. */
export function nearestFlag(raw: string): string | null {
  const bare = raw.replace(/^-+/, '').split('=')[0]!;
  if (bare.length < 2) {
    // One letter: only the same letter in the other case is nearer than any other (-r -> -R).
    const short = Object.values(FLAGS as Record<string, FlagSpec>).find((f) => f.short !== undefined && f.short !== bare && f.short.toLowerCase() === bare.toLowerCase());
    return short === undefined ? null : `-${short.short}`;
  }
  if (Object.hasOwn(OTHER_TOOLS, bare.toLowerCase())) return OTHER_TOOLS[bare.toLowerCase()]!;
  let best: string | null = null;
  let bestD = Infinity;
  for (const name of Object.keys(FLAGS)) {
    if (name.length < 2) continue;
    const d = distance(bare.toLowerCase(), name);
    if (d < bestD) [best, bestD] = [`--${name}`, d];
  }
  // Near enough: at most a third of the word wrong.
  return bestD <= Math.max(1, Math.floor(bare.length / 3)) ? best : null;
}

/** Whether a value after a flag is rather the next flag (`-c --size 4`, a bare `-c` before another). */
function isFlag(value: string): boolean {
  return /^--?[a-zA-Z]/.test(value) && !/^-\d/.test(value);
}

export function parse(argv: string[]): Args {
  const options = Object.fromEntries(Object.entries(FLAGS as Record<string, FlagSpec & { multiple?: boolean }>)
    .map(([name, { takes: _takes, ...config }]) => [name, config]));
  // Not strict: the checks below give the tool's own message (parseArgs's text names its
  // own workarounds), and a negative number after a flag is its value, refused by its check.
  const parsed = parseArgs({ args: argv, allowPositionals: true, strict: false, tokens: true, options });
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    const spec = (FLAGS as Record<string, FlagSpec>)[t.name];
    if (spec === undefined) {
      const near = nearestFlag(t.rawName);
      throw new UsageError(`unknown flag ${t.rawName}${near === null ? '' : ` (did you mean ${near}?)`}`);
    }
    if (spec.type === 'boolean' && t.inlineValue === true) throw new UsageError(`${t.rawName} takes no value, got ${t.rawName}=${t.value}`);
    if (spec.type === 'string' && (t.value === undefined || (t.inlineValue !== true && isFlag(t.value)))) {
      throw new UsageError(`${t.rawName} takes ${spec.takes ?? 'a value'}, got ${t.value === undefined ? 'nothing' : `the flag ${t.value}`}`);
    }
  }
  const v = parsed.values as { [K in keyof typeof FLAGS]?: (typeof FLAGS)[K] extends { multiple: true } ? string[] : (typeof FLAGS)[K]['type'] extends 'string' ? string : boolean };
  const positionals = parsed.positionals;
  if (positionals.length > 1) throw new UsageError(`expected at most one URL, got ${positionals.length} arguments`);
  const url = positionals[0] ?? null;
  if (url !== null && !/^https?:\/\//i.test(url)) throw new UsageError(`url must start with http:// or https://, got ${url}`);
  if (v.n !== undefined && v.d !== undefined) throw new UsageError('give -n or -d, not both');
  const requests = v.n === undefined ? null : int('-n', v.n, 1);
  const durationMs = v.d !== undefined ? duration('-d', v.d) : requests === null ? 10_000 : null;
  const concurrency = v.c === undefined ? 16 : int('-c', v.c, 1);
  const workers = v.workers === undefined ? 1 : int('--workers', v.workers, 1);
  // Each worker needs at least one of the requests in flight (and of -n) to do anything.
  if (workers > concurrency) throw new UsageError(`--workers ${workers} needs -c of at least ${workers} (each worker gets its share of -c), got -c ${concurrency}`);
  if (requests !== null && workers > requests) throw new UsageError(`--workers ${workers} needs -n of at least ${workers} (each worker gets its share of -n), got -n ${requests}`);
  const tlsFiles = { ca: file('--ca', v.ca), cert: file('--cert', v.cert), key: file('--key', v.key) };
  if ((tlsFiles.cert === null) !== (tlsFiles.key === null)) throw new UsageError('--cert and --key go together: a client certificate needs its key');
  if ((tlsFiles.ca !== null || tlsFiles.cert !== null) && url !== null && !/^https:/i.test(url)) {
    throw new UsageError(`--ca, --cert and --key are for https:// URLs, got ${url}`);
  }
  const body = v.body === undefined ? null : v.body.startsWith('@') ? readBody(v.body.slice(1)) : Buffer.from(v.body);
  const method = (v.m ?? (body === null ? 'GET' : 'POST')).toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new UsageError(`invalid method: ${v.m}`);
  const backend = v.backend ?? 'raw';
  if (backend !== 'raw' && backend !== 'node') throw new UsageError(`--backend must be raw or node, got ${backend}`);
  if (backend === 'node' && v.pipelining !== undefined && v.pipelining !== '1') throw new UsageError('--pipelining needs the raw backend: node:http does not pipeline');
  const pipelining = v.pipelining === undefined ? 1 : int('--pipelining', v.pipelining, 1);
  const hs = headers(v.H ?? []);
  if (pipelining > 1) checkPipelinable(pipelining, method, hs);
  return {
    url,
    concurrency,
    requests,
    durationMs,
    rate: v.rate === undefined ? null : rate(v.rate),
    workers,
    warmupMs: v.warmup === undefined ? null : duration('--warmup', v.warmup),
    expect: v.expect === undefined ? null : status(v.expect),
    socketPath: v['socket-path'] === undefined ? null : socketPath(v['socket-path']),
    ...tlsFiles,
    maxRequestsPerConn: v['max-requests-per-conn'] === undefined ? 0 : int('--max-requests-per-conn', v['max-requests-per-conn'], 1),
    maxConnAgeMs: v['max-conn-age'] === undefined ? 0 : duration('--max-conn-age', v['max-conn-age']),
    latencyTable: v['latency-table'] ?? false,
    svg: v.svg === undefined ? null : svgPath(v.svg),
    size: v.size === undefined ? 8 : int('--size', v.size, 1),
    pipelining,
    method,
    headers: hs,
    body,
    timeout: v.timeout === undefined ? 0 : int('--timeout', v.timeout, 0),
    insecure: v.insecure ?? false,
    backend,
    proxy: v.proxy === undefined ? null : proxy(v.proxy),
    json: v.json ?? false,
    help: v.help ?? false,
  };
}

/**
 * The pool pipelines only idempotent requests without `connection: close` (the same
 * rule as `Pool`); with any other the run would pipeline nothing, so asking for
 * pipelining is refused rather than labelling a run with what it did not do.
 */
function checkPipelinable(pipelining: number, method: string, hs: Record<string, string[]>): void {
  if (!isIdempotent(method)) {
    throw new UsageError(`--pipelining ${pipelining}: ${method} requests are never pipelined (only GET, HEAD, OPTIONS, PUT, DELETE and TRACE are)`);
  }
  for (const name of Object.keys(hs)) {
    if (name.toLowerCase() === 'connection' && hs[name]!.some((v) => v.toLowerCase() === 'close')) {
      throw new UsageError(`--pipelining ${pipelining}: requests with 'connection: close' are never pipelined (each one closes its socket)`);
    }
  }
}

function int(flag: string, s: string, min: number): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got ${s}`);
  return n;
}

function duration(flag: string, s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s);
  if (m === null) throw new UsageError(`${flag} must be a duration like 10s, 500ms or 2m, got ${s}`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  if (ms <= 0) throw new UsageError(`${flag} must be positive, got ${s}`);
  // The pool's timers (and setTimeout) stop at 2^31-1 ms.
  if (ms > 2_147_483_647) throw new UsageError(`${flag} must be at most 24 days, got ${s}`);
  return ms;
}

/** Requests per second: any positive number (0.5 is one every two seconds). */
function rate(s: string): number {
  const n = Number(s);
  if (!/^\d+(\.\d+)?$/.test(s) || !(n > 0) || !Number.isFinite(n)) throw new UsageError(`-R must be a positive number of requests per second, got ${s}`);
  return n;
}

function status(s: string): number {
  if (!/^[1-5]\d\d$/.test(s)) throw new UsageError(`--expect must be an HTTP status from 100 to 599, got ${s}`);
  return Number(s);
}

/** Read now: a file that cannot be read stops the run before anything connects. */
function file(flag: string, p: string | undefined): Buffer | null {
  if (p === undefined) return null;
  try {
    return readFileSync(p);
  } catch (err) {
    throw new UsageError(`${flag} ${p}: ${(err as Error).message}`);
  }
}

function proxy(url: string): string {
  try {
    parseProxy(url, '--proxy');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return url;
}

function socketPath(p: string): string {
  let isSocket: boolean;
  try {
    isSocket = statSync(p).isSocket();
  } catch (err) {
    throw new UsageError(`-S ${p}: ${(err as Error).message}`);
  }
  if (!isSocket) throw new UsageError(`-S ${p}: not a unix socket`);
  return p;
}

/** The picture is written at the end of the run: a directory it cannot go to is refused now, not after the run. */
function svgPath(p: string): string {
  const dir = path.dirname(path.resolve(p));
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new UsageError(`--svg ${p}: cannot write in ${dir}: ${(err as Error).message}`);
  }
  return p;
}

function headers(lines: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) throw new UsageError(`-H must be 'name: value', got ${JSON.stringify(line)}`);
    const name = line.slice(0, i).trim();
    (out[name] ??= []).push(line.slice(i + 1).trim());
  }
  return out;
}

function readBody(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`--body @${path}: ${(err as Error).message}`);
  }
}
