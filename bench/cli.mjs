// Our load tool beside autocannon and wrk: the same canned server, the same connections and
// duration, one tool at a time, several rounds in alternating order. Per tool: completed
// requests per second, the client's CPU (user + system of its whole process tree) per
// completed request, and p99 latency; ratios against autocannon and against ours.
//
//   npm run bench:cli                         (builds first; defaults: -c 64, 10 s, 3 rounds)
//   node bench/cli.mjs --quick                (2 s, one round: a smoke run, writes nothing)
//   node bench/cli.mjs -c 128 -d 20 --rounds 5 --server nginx
//   node bench/cli.mjs --also wt-cli=/tmp/x   (adds another build of ours, raw backend)
//
// CPU: each tool runs under `bash -c '"$@"; times'`; the second line of `times` is the user
// and system time of the shell's waited-for descendants (getrusage RUSAGE_CHILDREN), i.e.
// every process and thread the tool ran, startup included. The server is not a descendant.
// Only loopback addresses are used. Exits 1 if a tool that is present failed.
import { fork, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findBinary, freePort, nginxConfig, startDaemon } from './daemons.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    connections: { type: 'string', short: 'c' },
    duration: { type: 'string', short: 'd' },
    rounds: { type: 'string' },
    quick: { type: 'boolean' },
    server: { type: 'string' },
    path: { type: 'string' },
    size: { type: 'string' },
    tools: { type: 'string' },
    also: { type: 'string', multiple: true },
    out: { type: 'string' },
  },
});
const CONNECTIONS = int(opt.connections ?? '64', 'connections');
const SECONDS = int(opt.duration ?? (opt.quick ? '2' : '10'), 'duration');
const ROUNDS = int(opt.rounds ?? (opt.quick ? '1' : '3'), 'rounds');
// Ours opens --size sockets and keeps -c requests in flight over them; one request per
// socket at a time is what autocannon and wrk do with -c connections.
const SIZE = int(opt.size ?? String(CONNECTIONS), 'size');
const SERVER = opt.server ?? 'node';
const URL_PATH = opt.path ?? '/small';
const OUT = opt.out ?? (opt.quick ? null : path.join(root, 'bench', 'results', 'cli', 'latest.md'));
if (!['node', 'nginx'].includes(SERVER)) usage(`--server is node or nginx, not ${SERVER}`);

function int(s, name) {
  const v = Number(s.replace(/s$/, ''));
  if (!Number.isInteger(v) || v < 1) usage(`--${name} wants a whole number above 0, not ${s}`);
  return v;
}

function usage(message) {
  process.stderr.write(`bench/cli.mjs: ${message}\n`);
  process.exit(2);
}

// ---- the tools ---------------------------------------------------------------------

/** A tool: how to run it against `url`, and how to read completed, failed, p99 from its output. */
function ours(name, dir, backend) {
  const main = path.join(dir, 'dist', 'cli', 'main.js');
  // One process, one thread, like the others: pass --workers 1 where the build has workers.
  const help = spawnSync(process.execPath, [main, '--help'], { encoding: 'utf8' }).stdout ?? '';
  const workers = help.includes('--workers') ? ['--workers', '1'] : [];
  return {
    name,
    build: `${name}: ${dir} at ${commitOf(dir)}`,
    present: fs.existsSync(main) ? null : `${main} is missing (npm run build)`,
    command: (url, seconds) => [process.execPath, main, url, '-c', `${CONNECTIONS}`, '--size', `${SIZE}`, '-d', `${seconds}s`, '--backend', backend, ...workers, '--json'],
    read(stdout) {
      const r = JSON.parse(stdout);
      return { completed: r.succeeded, failed: r.failed, seconds: r.durationMs / 1000, p99: r.latency?.p99 ?? null };
    },
  };
}

const autocannonBin = path.join(root, 'node_modules', '.bin', 'autocannon');
const autocannon = {
  name: 'autocannon',
  present: fs.existsSync(autocannonBin) ? null : 'node_modules/.bin/autocannon is missing (npm install)',
  // No -w: autocannon's default is its main thread only, as ours and wrk -t1.
  command: (url, seconds) => [autocannonBin, '-c', `${CONNECTIONS}`, '-d', `${seconds}`, '-j', url],
  read(stdout) {
    const r = JSON.parse(stdout);
    return { completed: r.latency.totalCount, failed: r.errors + r.timeouts, seconds: r.duration, p99: r.latency.p99 };
  },
};

const wrkBin = findBinary('wrk');
const wrk = {
  name: 'wrk',
  optional: true,
  present: wrkBin ? null : 'not on PATH (apt-get install wrk)',
  // wrk is C and runs -t threads; one, like the others.
  command: (url, seconds) => [wrkBin, '-t1', '-c', `${CONNECTIONS}`, '-d', `${seconds}s`, '--latency', url],
  read(stdout) {
    const done = /(\d+) requests in ([\d.]+)(us|ms|s|m)\b/.exec(stdout);
    const p99 = /^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(stdout);
    if (!done || !p99) throw new Error('no "N requests in" or "99%" line');
    const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
    const failed = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
    return { completed: Number(done[1]), failed, seconds: toMs(done[2], done[3]) / 1000, p99: toMs(p99[1], p99[2]) };
  },
};

/** The commit a build came from, "+changes" when its tree differs from it. */
function commitOf(dir) {
  const git = (...args) => spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
  const head = git('log', '-1', '--format=%h').stdout?.trim();
  if (!head) return 'no git commit';
  const dirty = git('status', '--porcelain', '--untracked-files=no').stdout?.trim();
  return `${head}${dirty ? ' (+changes)' : ''}`;
}

function toMs(v, unit) {
  return Number(v) * { us: 1e-3, ms: 1, s: 1e3, m: 60e3 }[unit];
}

// No HTTP client at all: plain sockets and fixed bytes (bench/floor.mjs), what Node and
// the kernel alone cost per request here; no load tool written for Node can go below it.
const floorScript = path.join(root, 'bench', 'floor.mjs');
const nodeFloor = {
  name: 'node floor',
  present: null,
  command: (url, seconds) => [process.execPath, floorScript, url, '-c', `${CONNECTIONS}`, '-d', `${seconds}`],
  read(stdout) {
    const r = JSON.parse(stdout);
    return { completed: r.completed, failed: 0, seconds: r.seconds, p99: null };
  },
};

const ALL = [ours('ours', root, 'raw'), ours('ours --backend node', root, 'node'), autocannon, wrk, nodeFloor];
for (const a of opt.also ?? []) {
  const [name, dir] = a.includes('=') ? a.split(/=(.*)/s) : [path.basename(a), a];
  ALL.push(ours(`ours@${name}`, path.resolve(dir), 'raw'));
}
const wanted = opt.tools?.split(',') ?? null;
const tools = wanted ? ALL.filter((t) => wanted.includes(t.name) || t.name.startsWith('ours@')) : ALL;
if (wanted) for (const w of wanted) if (!ALL.some((t) => t.name === w)) usage(`unknown tool ${w}; one of ${ALL.map((t) => t.name).join(', ')}`);

// ---- the server --------------------------------------------------------------------

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-bench-cli-'));
const stops = [];

/** bench/server.mjs in its own process, or nginx with one worker; resolves with its base URL. */
async function startServer() {
  if (SERVER === 'node') {
    const child = fork(path.join(root, 'bench', 'server.mjs'), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    stops.push(() => child.kill());
    const port = await new Promise((resolve, reject) => {
      child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
      child.once('exit', (code) => reject(new Error(`bench/server.mjs exited with ${code}`)));
    });
    return { url: `http://127.0.0.1:${port}`, describe: 'bench/server.mjs (Node, one process), 64-byte body on /small' };
  }
  const bin = findBinary('nginx', 'NGINX');
  if (!bin) usage('--server nginx: nginx is not installed');
  const port = await freePort();
  // One worker, no logging, keep-alive for the whole run (the default closes after 1000 requests).
  const args = nginxConfig({
    dir,
    port,
    workerConnections: 4096,
    http: '  keepalive_timeout 120s;\n  keepalive_requests 1000000000;',
    location: `default_type text/plain; return 200 "${'x'.repeat(64)}";`,
  });
  const nginx = await startDaemon('nginx', bin, args, port);
  stops.push(nginx.stop);
  return { url: nginx.url, describe: 'nginx (one worker process), 64-byte body' };
}

// ---- one run -----------------------------------------------------------------------

// `times` after the tool: line 2 is its user and system time, every descendant included.
const WRAP = 'out=$1; err=$2; shift 2; "$@" >"$out" 2>"$err"; rc=$?; times >"$out.times"; exit $rc';
let runs = 0;

/** Runs `tool` once; resolves with its figures, or with `error` set. */
async function measure(tool, url, seconds = SECONDS) {
  const base = path.join(dir, `run-${++runs}`);
  const argv = tool.command(url, seconds);
  const child = spawn('bash', ['-c', WRAP, 'bash', `${base}.out`, `${base}.err`, ...argv], { stdio: 'ignore' });
  // A tool that hangs is a failure, not a stuck benchmark.
  const kill = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
  const code = await new Promise((resolve) => child.once('exit', (c, signal) => resolve(c ?? signal)));
  clearTimeout(kill);
  const stdout = read(`${base}.out`);
  const result = { tool: tool.name, code };
  try {
    if (code !== 0) throw new Error(`exit ${code}`);
    Object.assign(result, tool.read(stdout));
    const t = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(read(`${base}.out.times`).split('\n')[1] ?? '');
    if (!t) throw new Error('no `times` line');
    result.cpuSeconds = Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4]);
    if (!(result.completed > 0)) throw new Error('no completed requests');
    // A few resets at the end of a run happen; more than 1% is a broken run.
    if (result.failed > result.completed / 100) throw new Error(`${result.failed} failed requests`);
    result.rps = result.completed / result.seconds;
    result.cpuUs = (result.cpuSeconds * 1e6) / result.completed;
  } catch (err) {
    result.error = `${err.message}; ${argv.join(' ')}\n${read(`${base}.err`).slice(-2000)}${stdout.slice(-500)}`;
  }
  return result;
}

function read(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the rounds --------------------------------------------------------------------

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (v, digits) => (Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');
const ratio = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : 'n/a');

async function main() {
  const server = await startServer();
  const url = server.url + URL_PATH;
  const present = tools.filter((t) => t.present === null);
  let failed = false;
  for (const t of tools) {
    if (t.present === null) continue;
    // Only wrk may be absent; ours unbuilt or autocannon uninstalled is a broken setup.
    process.stderr.write(`${t.optional ? 'skipped' : 'MISSING'} ${t.name}: ${t.present}\n`);
    if (!t.optional) failed = true;
  }

  const cpus = os.cpus();
  const setup = `-c ${CONNECTIONS} (ours: --size ${SIZE}), ${SECONDS} s per run, ${ROUNDS} round${ROUNDS > 1 ? 's' : ''}, ${server.describe}, ${url}`;
  process.stdout.write(`${setup}\nNode ${process.version}, ${cpus.length} x ${cpus[0]?.model ?? '?'}\n`);

  // The server's JIT warms up before anything is measured.
  const warm = present.find((t) => t.name === 'wrk') ?? present[0];
  if (warm) await measure(warm, url, 1);

  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order, so no tool always runs first (or right after the same one).
    const order = r % 2 === 0 ? present : present.slice().reverse();
    const round = {};
    for (const tool of order) {
      const m = await measure(tool, url);
      round[tool.name] = m;
      if (m.error) {
        failed = true;
        process.stderr.write(`round ${r + 1} ${tool.name} FAILED: ${m.error}\n`);
      } else {
        process.stdout.write(
          `round ${r + 1}  ${tool.name.padEnd(22)} ${fmt(m.rps, 0).padStart(9)} req/s  ${fmt(m.cpuUs, 1).padStart(6)} µs CPU/request  p99 ${fmt(m.p99, 2)} ms\n`,
        );
      }
      await sleep(500);
    }
    rounds.push(round);
  }

  // Ratios are taken within a round (the machine drifts between rounds), then the median.
  const within = (name, base, key) =>
    median(rounds.map((rd) => (rd[name] && rd[base] && !rd[name].error && !rd[base].error && rd[name][key] !== null && rd[base][key] !== null ? rd[name][key] / rd[base][key] : NaN)));
  const rows = present.map((t) => {
    const ok = rounds.map((rd) => rd[t.name]).filter((m) => m && !m.error);
    return {
      name: t.name,
      rps: median(ok.map((m) => m.rps)),
      cpuUs: median(ok.map((m) => m.cpuUs)),
      p99: median(ok.map((m) => m.p99 ?? NaN)),
      rpsVsAc: within(t.name, 'autocannon', 'rps'),
      cpuVsAc: within(t.name, 'autocannon', 'cpuUs'),
      p99VsAc: within(t.name, 'autocannon', 'p99'),
      cpuVsOurs: within(t.name, 'ours', 'cpuUs'),
      cpuVsFloor: within(t.name, 'node floor', 'cpuUs'),
    };
  });

  const head = ['tool', 'req/s', 'CPU µs/request', 'p99 ms', 'req/s vs autocannon', 'CPU vs autocannon', 'p99 vs autocannon', 'CPU vs ours', 'CPU vs node floor'];
  const cells = rows.map((r) => [r.name, fmt(r.rps, 0), fmt(r.cpuUs, 1), fmt(r.p99, 2), ratio(r.rpsVsAc), ratio(r.cpuVsAc), ratio(r.p99VsAc), ratio(r.cpuVsOurs), ratio(r.cpuVsFloor)]);
  const table = [head, head.map(() => '---'), ...cells].map((c) => `| ${c.join(' | ')} |`).join('\n');
  // Each build of ours on the raw backend (the default one) is judged; NodePool is not the target.
  // The goal is relative to the floor under any Node tool (issue 23), not to autocannon.
  const judged = rows.filter((r) => (r.name === 'ours' || r.name.startsWith('ours@')) && Number.isFinite(r.cpuVsFloor));
  const goal = judged.length
    ? `Goal, CPU per request <= 1.10x the node floor's: ${judged.map((r) => `${r.name} ${ratio(r.cpuVsFloor)} ${r.cpuVsFloor <= 1.1 ? 'met' : 'NOT met'}`).join('; ')}.`
    : 'Goal not judged: no ours/node floor pair.';
  process.stdout.write(`\n${table}\n\n${goal}\n`);

  if (OUT) {
    const perRound = rounds
      .map((rd, i) =>
        Object.values(rd)
          .map((m) => `| ${i + 1} | ${m.tool} | ${m.error ? 'failed' : fmt(m.rps, 0)} | ${fmt(m.cpuUs, 1)} | ${fmt(m.p99, 2)} | ${fmt(m.cpuSeconds, 2)} | ${m.completed ?? 'n/a'} |`)
          .join('\n'),
      )
      .join('\n');
    const md = `# CLI load tools side by side

${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${cpus.length} x ${cpus[0]?.model ?? '?'} (shared machine: compare ratios).
${setup}. Every tool one thread: ours one process, autocannon without -w, wrk -t1.

Builds (raw backend unless said): ${present.filter((t) => t.build && t.name !== 'ours --backend node').map((t) => t.build).join('; ')}.

Medians over the rounds; ratios are taken within each round, then the median.
CPU: user + system time of the tool's whole process tree (bash \`times\`, children line), startup included, divided by completed requests.
"node floor" is bench/floor.mjs: plain sockets writing fixed bytes and counting fixed-length answers, no HTTP client; what Node and the kernel alone cost per request here.

${table}

${goal}

Each run:

| round | tool | req/s | CPU µs/request | p99 ms | CPU s | completed |
| --- | --- | --- | --- | --- | --- | --- |
${perRound}
`;
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, md);
    process.stdout.write(`wrote ${path.relative(process.cwd(), OUT)}\n`);
  }
  return failed ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  process.stderr.write(`${err.stack ?? err}\n`);
} finally {
  for (const stop of stops) stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
