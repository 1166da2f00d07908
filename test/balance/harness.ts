// Test harness for the balance tests: named node:http backends, HAProxy as a child
// process with its runtime API, free ports, and load drivers that count shares.
// Everything started here is stopped by test/helpers.ts's cleanup() after the test.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { defer, freePort } from '../helpers.js';

export { freePort };

// ---- HAProxy binary

/** The haproxy binary: $HAPROXY, /usr/sbin/haproxy, or the first on PATH; null when none is installed. */
export function findHaproxy(): string | null {
  const candidates = [process.env['HAPROXY'], '/usr/sbin/haproxy', '/usr/local/sbin/haproxy'];
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) if (dir !== '') candidates.push(path.join(dir, 'haproxy'));
  for (const c of candidates) {
    if (c === undefined || c === '') continue;
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      // not there
    }
  }
  return null;
}

// ---- backends

export interface Backend {
  id: string;
  host: string;
  port: number;
  server: http.Server;
  /** Requests this backend answered. */
  served: number;
  /** Connections that carried at least one request (a health check's carries none). */
  connections: number;
  /** Closes the listener and drops every connection at once (an abrupt backend death). */
  stop(): Promise<void>;
  /** Listens again on the same address and port after stop(). */
  restart(): Promise<void>;
}

/**
 * A node:http backend answering every request with `x-backend: <id>`; a path
 * /r/<rid> is echoed back (`x-request-id` and the body), so a response can be matched
 * to its request. `port` 0 picks a free one.
 */
export async function backend(id: string, host = '127.0.0.1', port = 0): Promise<Backend> {
  const seen = new WeakSet<net.Socket>();
  const b: Backend = {
    id,
    host,
    port,
    served: 0,
    connections: 0,
    server: http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      b.served++;
      if (!seen.has(req.socket)) {
        seen.add(req.socket);
        b.connections++;
      }
      const m = /^\/r\/([^/?]+)/.exec(req.url ?? '');
      const rid = m === null ? '' : m[1]!;
      res.setHeader('x-backend', id);
      if (rid !== '') res.setHeader('x-request-id', rid);
      // Drain a request body, if any, before answering.
      req.resume();
      req.on('end', () => res.end(rid === '' ? id : rid));
    }),
    stop: async () => {
      const s = b.server;
      if (!s.listening) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
    restart: () => new Promise<void>((resolve, reject) => b.server.once('error', reject).listen(b.port, host, resolve)),
  };
  await new Promise<void>((resolve, reject) => b.server.once('error', reject).listen(port, host, resolve));
  b.port = (b.server.address() as net.AddressInfo).port;
  defer(() => b.stop());
  return b;
}

/** `n` backends s1..sn on 127.0.0.1, free ports. */
export async function backends(n: number): Promise<Backend[]> {
  const all: Backend[] = [];
  for (let i = 1; i <= n; i++) all.push(await backend(`s${i}`));
  return all;
}

/**
 * Backends s1..s<hosts.length> on the given loopback addresses, all on one port (a
 * `lookup` returns addresses only, so the port must be the same everywhere). Tries
 * ports the OS finds free on the first address until one is free on all of them.
 */
export async function backendsOnOnePort(hosts: string[]): Promise<{ port: number; backends: Backend[] }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await backend('s1', hosts[0]!, 0);
    const all = [first];
    try {
      for (let i = 1; i < hosts.length; i++) all.push(await backend(`s${i + 1}`, hosts[i]!, first.port));
      return { port: first.port, backends: all };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      for (const b of all) await b.stop();
    }
  }
  throw new Error(`no port free on all of ${hosts.join(', ')}`);
}

// ---- HAProxy

export interface Haproxy {
  /** Frontend port on 127.0.0.1. */
  port: number;
  url: string;
  dir: string;
  child: ChildProcess;
  /** Everything haproxy wrote to stderr so far. */
  log(): string;
  /** Resolves when a line of haproxy's stderr matches (already written ones count). */
  waitLog(re: RegExp): Promise<void>;
  /** Sends one command over the runtime API (admin socket) and resolves with the answer. */
  command(cmd: string): Promise<string>;
  stop(): Promise<void>;
}

export interface HaproxyServer {
  name: string;
  port: number;
  disabled?: boolean;
}

export function haproxyConfig(frontendPort: number, dir: string, servers: HaproxyServer[]): string {
  return [
    'global',
    `  stats socket ${path.join(dir, 'admin.sock')} level admin`,
    '  maxconn 4096',
    '',
    'defaults',
    '  mode tcp',
    '  timeout connect 1s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  retries 3',
    // Redispatch on every retry (the default waits for the last one, a second apart).
    '  option redispatch 1',
    '',
    'frontend fe',
    `  bind 127.0.0.1:${frontendPort}`,
    '  default_backend be',
    '',
    'backend be',
    '  balance roundrobin',
    ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check inter 100 fall 1 rise 1${s.disabled ? ' disabled' : ''}`),
    '',
  ].join('\n');
}

/** Resolves once `connect()` succeeds, trying again after each refusal while `alive()`. */
export async function waitConnectable(options: net.NetConnectOpts, alive: () => string | null): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const dead = alive();
    if (dead !== null) throw new Error(dead);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(options);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    // Nothing to listen for until the process binds: back off a little between tries.
    await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt * 2)));
  }
}

/**
 * Starts haproxy in the foreground (-db) from a generated config in a temp dir, in
 * front of `servers`; resolves once its frontend and admin socket accept connections.
 * Killed after the test.
 */
export async function startHaproxy(bin: string, servers: HaproxyServer[]): Promise<Haproxy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-haproxy-'));
  defer(() => fs.rmSync(dir, { recursive: true, force: true }));
  let lastError: Error | null = null;
  // The frontend port is picked free and handed over; on the rare bind race, try another.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const cfg = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(cfg, haproxyConfig(port, dir, servers));
    const child = spawn(bin, ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let exited: string | null = null;
    const logWaiters: { re: RegExp; resolve: () => void }[] = [];
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      stderr += d;
      for (let i = logWaiters.length - 1; i >= 0; i--) {
        if (logWaiters[i]!.re.test(stderr)) logWaiters.splice(i, 1)[0]!.resolve();
      }
    });
    const exit = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        exited = `haproxy exited (${signal ?? code}): ${stderr}`;
        resolve();
      }),
    );
    child.once('error', (err) => (exited = `haproxy failed to start: ${err.message}`));
    const stop = async (): Promise<void> => {
      if (exited === null && child.exitCode === null) {
        child.kill('SIGKILL');
        await exit;
      }
    };
    defer(stop);
    try {
      // Not the frontend: a probe connection there would take a round-robin turn and
      // shift the spread of the connections under test. The admin socket answers only
      // once haproxy runs its event loop, i.e. after every listener was bound.
      await waitConnectable({ path: path.join(dir, 'admin.sock') }, () => exited);
    } catch (err) {
      lastError = err as Error;
      await stop();
      continue;
    }
    const sock = path.join(dir, 'admin.sock');
    const h: Haproxy = {
      port,
      url: `http://127.0.0.1:${port}`,
      dir,
      child,
      log: () => stderr,
      waitLog: (re) =>
        re.test(stderr)
          ? Promise.resolve()
          : new Promise<void>((resolve, reject) => {
              logWaiters.push({ re, resolve });
              void exit.then(() => reject(new Error(exited ?? 'haproxy exited')));
            }),
      command: (cmd) =>
        new Promise<string>((resolve, reject) => {
          let out = '';
          const s = net.connect(sock, () => s.end(`${cmd}\n`));
          s.setEncoding('utf8');
          s.on('data', (d: string) => (out += d));
          s.once('error', reject);
          s.once('close', () => resolve(out));
        }),
      stop,
    };
    const status = await frontendStatus(h);
    if (status !== 'OPEN') throw new Error(`haproxy frontend is ${status}: ${stderr}`);
    return h;
  }
  throw lastError ?? new Error('haproxy did not start');
}

/** The status of frontend `fe` from `show stat` ("OPEN" once it listens). */
export async function frontendStatus(h: Haproxy): Promise<string> {
  return (await stat(h)).find((r) => r['pxname'] === 'fe' && r['svname'] === 'FRONTEND')?.['status'] ?? 'missing';
}

/** `show stat` as one record per line. */
async function stat(h: Haproxy): Promise<Record<string, string>[]> {
  const out = await h.command('show stat');
  const lines = out.split('\n').filter((l) => l !== '');
  const header = lines[0]!.replace(/^# /, '').split(',');
  return lines.slice(1).map((l) => {
    const f = l.split(',');
    return Object.fromEntries(header.map((k, i) => [k, f[i] ?? '']));
  });
}

/** Server name -> status ("UP", "DOWN", "MAINT", ...) from `show stat`. */
export async function serverStatus(h: Haproxy): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const r of await stat(h)) if (r['pxname'] === 'be' && r['svname'] !== 'BACKEND') result[r['svname']!] = r['status']!;
  return result;
}

// ---- load

export interface Getter {
  get(path: string): Promise<{ statusCode: number; headers: Record<string, string | string[] | undefined>; text(): string }>;
}

export interface Tally {
  /** Responses per backend id (from `x-backend`). */
  counts: Record<string, number>;
  ok: number;
  failed: Error[];
}

export function tally(): Tally {
  return { counts: {}, ok: 0, failed: [] };
}

/**
 * Sends `n` GETs of `path` with `concurrency` workers, each waiting for its
 * response before sending the next, and counts the backends that answered.
 */
export async function load(client: Getter, n: number, concurrency: number, t: Tally = tally(), path = '/'): Promise<Tally> {
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < n) {
      started++;
      try {
        const res = await client.get(path);
        const b = String(res.headers['x-backend']);
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode} from ${b}`);
        t.counts[b] = (t.counts[b] ?? 0) + 1;
        t.ok++;
      } catch (err) {
        t.failed.push(err as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return t;
}

/**
 * Sends requests (concurrency `concurrency`) until `done()` holds, checked after each
 * response: the responses are the events that move recycling forward. Bounded by the
 * test's timeout: once the test timed out, cleanup() destroys the pool, and the loop
 * stops there rather than spinning on rejections for the rest of the run.
 */
export async function loadUntil(client: Getter, concurrency: number, done: () => boolean, t: Tally = tally()): Promise<Tally> {
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      try {
        const res = await client.get('/');
        const b = String(res.headers['x-backend']);
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode} from ${b}`);
        t.counts[b] = (t.counts[b] ?? 0) + 1;
        t.ok++;
      } catch (err) {
        t.failed.push(err as Error);
        const code = (err as { code?: unknown }).code;
        if (code === 'HCP_POOL_DESTROYED' || code === 'HCP_POOL_CLOSED') stop = true;
      }
      if (done()) stop = true;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return t;
}

/** Percent share of each of `ids` in `t`. */
export function shares(t: Tally, ids: string[]): Record<string, number> {
  const total = ids.reduce((a, id) => a + (t.counts[id] ?? 0), 0);
  const out: Record<string, number> = {};
  for (const id of ids) out[id] = total === 0 ? 0 : (100 * (t.counts[id] ?? 0)) / total;
  return out;
}

/** A readable line for assertion messages. */
export function describeShares(s: Record<string, number>): string {
  return Object.entries(s)
    .map(([id, v]) => `${id} ${v.toFixed(1)}%`)
    .join(', ');
}
