// Loopback servers for the tests, and cleanup that runs after each test.
// Tests compile to build/, one level below the root like test/, so `../dist` resolves
// the same way from the sources and from the compiled files.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Pool, type PoolOptions } from '../dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Reads a file of test/fixtures. */
export function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(root, 'test', 'fixtures', name));
}

const cleanups: (() => unknown)[] = [];

/** Runs `fn` after the current test, last registered first. */
export function defer(fn: () => unknown): void {
  cleanups.push(fn);
}

/** Register in each test file: `afterEach(cleanup)`. */
export async function cleanup(): Promise<void> {
  while (cleanups.length !== 0) await cleanups.pop()!();
}

/** Listens on 127.0.0.1 on a free port; closes the server (and drops its sockets) after the test. */
/** A port that was free on `host` a moment ago (the OS picked it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, host, resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export async function listen<S extends net.Server>(server: S): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // TLS servers report their TCP sockets through 'connection' too.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
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

/** A pool that is destroyed after the test. */
export function pool(options: PoolOptions): Pool {
  const p = new Pool(options);
  defer(() => p.destroy());
  return p;
}

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

/** Resolves at the next emission of `event`. */
export function once<T = unknown>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (v: T) => resolve(v)));
}

/** A response with Content-Length. */
export function reply(body = 'ok', extra = '', status = '200 OK'): string {
  return `HTTP/1.1 ${status}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

/** Counts a server's connections and their closes; lets a test await a count (an event, not a sleep). */
export class Tracker {
  readonly sockets: net.Socket[] = [];
  /** Every chunk each connection received, in order. */
  readonly chunks = new Map<net.Socket, Buffer[]>();
  closed = 0;
  private waiters: { ready: () => boolean; resolve: () => void }[] = [];

  constructor(server: net.Server) {
    server.on('connection', (s: net.Socket) => {
      this.sockets.push(s);
      const list: Buffer[] = [];
      this.chunks.set(s, list);
      s.on('data', (d: Buffer) => {
        list.push(d);
        this.check();
      });
      s.on('close', () => {
        this.closed++;
        this.check();
      });
      this.check();
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

  until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready: cond, resolve }));
  }

  private check(): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.ready()) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}

export interface ServerConn {
  socket: net.Socket;
  /** Resolves when the server side of the connection has closed. */
  closed: Promise<void>;
  isClosed: boolean;
}

/** Records every connection the server accepts, with a promise of its close. */
export function track(server: net.Server): ServerConn[] {
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

/** Lets pending callbacks, microtasks and rejection reports run. */
export function turn(): Promise<void> {
  return new Promise((r) => setImmediate(() => setImmediate(r)));
}

/** How a child process ended, with everything it printed. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** A child Node process with an IPC channel (see `spawnChild`). */
export interface Child {
  readonly process: ChildProcess;
  /** Resolves when the process has exited and its output is drained. */
  readonly exited: Promise<ChildExit>;
  /** Resolves with the next IPC message for which `accept` is true; rejects if the child exits first. */
  message<T = unknown>(accept?: (m: T) => boolean): Promise<T>;
  send(message: unknown): void;
}

/**
 * Runs `script` in a child Node process (`execArgv` before it, `args` after), with an
 * IPC channel and its output collected. Nothing here times it: a test awaiting
 * `exited` is bounded by its own timeout, and the child is killed after the test if
 * it is still running.
 */
export function spawnChild(script: string, args: string[], execArgv: string[] = []): Child {
  const child = spawn(process.execPath, [...execArgv, script, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
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
