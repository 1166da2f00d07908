// Shared test helpers: cleanup after each test, loopback servers, clients, waiting,
// assertions and child processes. The ones a child script needs too live in
// test/support.ts (no chai there) and are re-exported here.
// Tests compile to build/, one level below the root like test/, so `../dist` resolves
// the same way from the sources and from the compiled files.
import { spawn, type ChildProcess } from 'node:child_process';
import * as diagnostics from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Pool, type Client, type PoolOptions } from '../dist/index.js';
import { turns, until } from './support.js';

export { lookupTo, turns, until } from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** test/fixtures, from build/ as from test/ (openssl needs paths; fixture() reads a file). */
export const fixturesDir = path.join(root, 'test', 'fixtures');

/** Reads a file of test/fixtures. */
export function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(fixturesDir, name));
}

// ---- cleanup

const cleanups: (() => unknown)[] = [];

/** Runs `fn` after the current test, last registered first. */
export function defer(fn: () => unknown): void {
  cleanups.push(fn);
}

/** Register in each test file: `afterEach(cleanup)`. */
export async function cleanup(): Promise<void> {
  while (cleanups.length !== 0) await cleanups.pop()!();
}

// ---- clients

/** Destroys client `c` after the test; returns it. */
export function destroyAfterTest<C extends Client>(c: C): C {
  defer(() => c.destroy());
  return c;
}

/** A Pool that is destroyed after the test. */
export function pool(options: PoolOptions): Pool {
  return destroyAfterTest(new Pool(options));
}

// ---- servers

/** A port that was free on `host` a moment ago (the OS picked it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, host, resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * Listens on `host` (127.0.0.1) at `port` (0: a free one); rejects with the listen error
 * (EADDRINUSE). Closes the server, and drops its sockets, after the test.
 */
export async function listen<S extends net.Server>(server: S, port = 0, host = '127.0.0.1'): Promise<number> {
  const sockets = new Set<net.Socket>();
  // TLS servers report their TCP sockets through 'connection' too.
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  defer(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

/** A node:http server; returns its origin. */
export async function httpServer(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, handler);
  const port = await listen(server);
  return { server, url: `http://127.0.0.1:${port}` };
}

/** A node:https server with the CA-signed "localhost" certificate. */
export async function httpsServer(
  handler: http.RequestListener,
  options: https.ServerOptions = {},
): Promise<{ server: https.Server; port: number }> {
  const server = https.createServer({ key: fixture('server-key.pem'), cert: fixture('server.pem'), keepAliveTimeout: 60_000, ...options }, handler);
  const port = await listen(server);
  return { server, port };
}

/**
 * A raw TCP server: `onRequest(socket, head)` runs for every complete request head
 * read on a connection (bodies of test requests are small and sent with the head).
 */
export async function rawServer(onRequest: (socket: net.Socket, head: string, index: number) => void): Promise<{ server: net.Server; url: string; port: number }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    readRequests(socket, (head, index) => onRequest(socket, head, index));
  });
  const port = await listen(server);
  return { server, url: `http://127.0.0.1:${port}`, port };
}

/**
 * Calls `onRequest(head, index)` for every complete request read on `socket`: the
 * head (through its blank line) once the `content-length` body after it has arrived too.
 */
export function readRequests(socket: net.Socket, onRequest: (head: string, index: number) => void): void {
  let buffered = '';
  let index = 0;
  socket.on('data', (d: Buffer) => {
    buffered += d.toString('latin1');
    for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
      const head = buffered.slice(0, end + 4);
      const m = /\r\ncontent-length: *(\d+)/i.exec(head);
      const len = m === null ? 0 : Number(m[1]);
      if (buffered.length < end + 4 + len) break;
      buffered = buffered.slice(end + 4 + len);
      onRequest(head, index++);
    }
  });
}

/** The request target of a raw request head. */
export function pathOf(head: string): string {
  return head.split(' ')[1]!;
}

/** One request head as a recordingServer read it. */
export interface Head {
  socket: net.Socket;
  head: string;
  path: string;
  /** Request number on its connection. */
  index: number;
}

/**
 * A raw server that records every request head (and, through its tracker, every
 * connection and every byte received) and writes what `answer` returns for it (null:
 * no answer; the test writes it, or never does). By default each request is answered
 * `answer <path>`, except paths starting with /hang. `next()` resolves at the next head.
 */
export async function recordingServer(answer: (h: Head) => string | null = (h) => (h.path.startsWith('/hang') ? null : reply(`answer ${h.path}`))) {
  const heads: Head[] = [];
  let waiter: ((h: Head) => void) | null = null;
  const { server, url, port } = await rawServer((socket, head, index) => {
    const h = { socket, head, path: pathOf(head), index };
    heads.push(h);
    const bytes = answer(h);
    if (bytes !== null) socket.write(bytes);
    const w = waiter;
    waiter = null;
    w?.(h);
  });
  const tracker = new Tracker(server);
  return {
    server,
    url,
    port,
    heads,
    tracker,
    conns: tracker.conns,
    paths: () => heads.map((h) => h.path),
    next: () => new Promise<Head>((r) => (waiter = r)),
  };
}

/** A response with Content-Length. */
export function reply(body = 'ok', extra = '', status = '200 OK'): string {
  return `HTTP/1.1 ${status}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

// ---- waiting on events

/** Resolves at the next emission of `event`. */
export function once<T = unknown>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (v: T) => resolve(v)));
}

/** Conditions waited on, re-checked whenever `notify()` is called (from the events that change them). */
export class Waits {
  private list: { cond: () => boolean; resolve: () => void }[] = [];

  until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve) => this.list.push({ cond, resolve }));
  }

  notify(): void {
    this.list = this.list.filter((w) => (w.cond() ? (w.resolve(), false) : true));
  }
}

/** A server-side connection, with a promise of its close. */
export interface ServerConn {
  socket: net.Socket;
  /** Resolves when the server side of the connection has closed. */
  closed: Promise<void>;
  isClosed: boolean;
}

/** Records every connection `server` accepts, with a promise of its close; reads nothing from them. */
export function serverConnections(server: net.Server): ServerConn[] {
  const conns: ServerConn[] = [];
  server.on('connection', (socket: net.Socket) => {
    const c: ServerConn = { socket, closed: null as unknown as Promise<void>, isClosed: false };
    c.closed = new Promise<void>((resolve) =>
      socket.once('close', () => {
        c.isClosed = true;
        resolve();
      }),
    );
    conns.push(c);
  });
  return conns;
}

/**
 * A server's connections, their closes and every byte they received (it reads them:
 * for servers that read anyway); a test awaits a count with `until` (an event, not a sleep).
 */
export class Tracker {
  readonly conns: ServerConn[];
  readonly sockets: net.Socket[] = [];
  /** Every chunk each connection received, in order. */
  readonly chunks = new Map<net.Socket, Buffer[]>();
  closed = 0;
  private readonly waits = new Waits();

  constructor(server: net.Server) {
    this.conns = serverConnections(server);
    server.on('connection', (s: net.Socket) => {
      this.sockets.push(s);
      const list: Buffer[] = [];
      this.chunks.set(s, list);
      s.on('data', (d: Buffer) => {
        list.push(d);
        this.waits.notify();
      });
      s.on('close', () => {
        this.closed++;
        this.waits.notify();
      });
      this.waits.notify();
    });
  }

  get connections(): number {
    return this.sockets.length;
  }

  /** All bytes received on all connections. */
  get bytes(): number {
    let n = 0;
    for (const list of this.chunks.values()) for (const c of list) n += c.length;
    return n;
  }

  /** Everything received, connection after connection, as latin1. */
  get text(): string {
    return Buffer.concat([...this.chunks.values()].flat()).toString('latin1');
  }

  until(cond: () => boolean): Promise<void> {
    return this.waits.until(cond);
  }
}

/** How a promise settled, recorded without ever leaving it unhandled. */
export interface Settlement<T> {
  settled: boolean;
  value?: T;
  error?: unknown;
  /** Resolves once the promise has settled, either way. */
  done: Promise<void>;
}

/** Records how `p` settles. */
export function settlement<T>(p: Promise<T>): Settlement<T> {
  const s: Settlement<T> = { settled: false, done: Promise.resolve() };
  s.done = p.then(
    (v) => {
      s.settled = true;
      s.value = v;
    },
    (e: unknown) => {
      s.settled = true;
      s.error = e;
    },
  );
  return s;
}

/**
 * Resolves once the client's sockets have read `bytes` bytes in all (or `stop()` holds).
 * The client has no read event, so this checks its byte counter every loop turn; a server
 * that waits on it before its next write makes every piece its own 'data' event.
 */
export async function clientRead(p: Client, bytes: number, stop: () => boolean = () => false): Promise<void> {
  await until(() => p.stats().totals.bytesIn >= bytes || stop(), () => `the client read ${p.stats().totals.bytesIn} bytes, not ${bytes}`);
}

/** Writes `piece`, then waits until the client has read it and everything before it (`base`: what it read elsewhere). */
export async function writeRead(p: Client, socket: net.Socket, piece: string | Buffer, base = 0, stop?: () => boolean): Promise<void> {
  await new Promise<void>((resolve) => socket.write(piece, () => resolve()));
  await clientRead(p, base + socket.bytesWritten, stop);
}

/** Subscribes `fn` to the diagnostics channel `http-client-pool:<name>` until the end of the test. */
export function subscribe(name: string, fn: (message: unknown) => void): void {
  diagnostics.subscribe(`http-client-pool:${name}`, fn);
  defer(() => diagnostics.unsubscribe(`http-client-pool:${name}`, fn));
}

// ---- assertions

/** Awaits a rejection and checks its class and code; returns the error. */
export async function rejects<E extends Error>(promise: Promise<unknown>, cls: abstract new (...args: never[]) => E, code?: string): Promise<E> {
  let value: unknown;
  try {
    value = await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(cls);
    if (code !== undefined) expect((err as { code?: string }).code).to.equal(code);
    return err as E;
  }
  throw new Error(`expected a rejection with ${cls.name}, got a resolution: ${String(value)}`);
}

/** The `code` of an error's cause (a socket's or TLS errno-style code). */
export function causeCode(err: Error): string | undefined {
  return (err.cause as { code?: string } | undefined)?.code;
}

/** Collects uncaught exceptions and unhandled rejections until the end of the test. */
export function watchUnhandled(): unknown[] {
  const seen: unknown[] = [];
  const onErr = (e: unknown): void => void seen.push(e);
  process.on('uncaughtException', onErr);
  process.on('unhandledRejection', onErr);
  defer(() => {
    process.removeListener('uncaughtException', onErr);
    process.removeListener('unhandledRejection', onErr);
  });
  return seen;
}

/**
 * Fails the test if anything escapes as an uncaught exception or unhandled rejection:
 * while `fn` runs and a few loop turns after it (late socket events), or, without
 * `fn`, until the end of the test (checked at cleanup).
 */
export async function noStrayErrors(fn?: () => Promise<void>): Promise<void> {
  const stray = watchUnhandled();
  const check = async (): Promise<void> => {
    await turns(5);
    expect(stray, 'uncaught errors').to.deep.equal([]);
  };
  if (fn === undefined) return defer(check);
  await fn();
  await check();
}

// ---- child processes

/** How a child process ended, with everything it printed. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** A child Node process (see `spawnChild`). */
export interface Child {
  readonly process: ChildProcess;
  /** Resolves when the process has exited and its output is drained. */
  readonly exited: Promise<ChildExit>;
  /** Resolves with the next IPC message for which `accept` is true; rejects if the child exits first. */
  message<T = unknown>(accept?: (m: T) => boolean): Promise<T>;
  send(message: unknown): void;
}

export interface ChildOptions {
  /** Node options before the script. */
  execArgv?: string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** An IPC channel (default true). */
  ipc?: boolean;
  /** Kill it after the current test if still running (default true; false for a child a suite's hooks own). */
  killAfterTest?: boolean;
}

/**
 * Runs `script` in a child Node process (`execArgv` before it, `args` after), with its
 * output collected. Nothing here times it: a test awaiting `exited` is bounded by its
 * own timeout, and the child is killed after the test if it is still running.
 */
export function spawnChild(script: string, args: string[], options: ChildOptions = {}): Child {
  const { execArgv = [], env, ipc = true, killAfterTest = true } = options;
  const child = spawn(process.execPath, [...execArgv, script, ...args], {
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    env: env === undefined ? process.env : { ...process.env, ...env },
  });
  if (killAfterTest) {
    defer(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  }
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const messages: unknown[] = [];
  let waiter: (() => void) | null = null;
  child.on('message', (m: unknown) => {
    messages.push(m);
    waiter?.();
  });
  let ended = false;
  const exited = new Promise<ChildExit>((resolve) => {
    child.on('error', (e) => {
      err += String(e);
    });
    // 'close': the process exited and its output pipes are drained.
    child.on('close', (code, signal) => {
      ended = true;
      waiter?.();
      resolve({ code, signal, out, err });
    });
  });
  return {
    process: child,
    exited,
    message<T>(accept: (m: T) => boolean = () => true): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const check = (): void => {
          const i = messages.findIndex((m) => accept(m as T));
          if (i >= 0) {
            waiter = null;
            resolve(messages.splice(i, 1)[0] as T);
          } else if (ended) {
            waiter = null;
            reject(new Error(`the child exited before the expected message; stdout: ${out} stderr: ${err}`));
          }
        };
        waiter = check;
        check();
      });
    },
    send(message: unknown): void {
      child.send(message as never);
    },
  };
}

/**
 * A loopback port where TCP connects never complete: a listening socket (in a child
 * python3, which never calls accept) with backlog 0, its accept queue filled by one
 * connection. Linux then drops further SYNs, so a connect just hangs.
 */
export async function blackhole(): Promise<number> {
  const child = spawn(
    'python3',
    ['-c', "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()"],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  defer(() => {
    child.stdin.end();
    child.kill();
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
  });
  const fillers: net.Socket[] = [];
  defer(() => fillers.forEach((s) => s.destroy()));
  for (let i = 0; i < 2; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
  }
  await once(fillers[0]!, 'connect'); // the one the queue has room for
  return port;
}
