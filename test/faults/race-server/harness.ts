// The race server (server.ts) in a child process, watched by a worker thread (watch.ts), as
// the tests of test/faults/ drive it: its port, the request heads it read, and a way to block
// the test's thread until the server has closed connections.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Client } from '../../../dist/index.js';
import { defer } from '../../helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The race server in a child process, watched by a worker thread (race-server/watch.ts). */
export class RaceServer {
  /** Request heads the server read, as 'METHOD /path', in order. */
  readonly seen: string[] = [];
  /** [0]: connections the server closed (idle mode); the worker wakes Atomics.wait on it. */
  readonly closed = new Int32Array(new SharedArrayBuffer(4));
  port = 0;
  private readonly worker: Worker;
  private waiters: (() => void)[] = [];
  private exited = false;

  private constructor(args: string[]) {
    this.worker = new Worker(path.join(here, 'watch.js'), { workerData: { args, closed: this.closed } });
    this.worker.on('message', (msg: { port?: number; seen?: string; exit?: unknown }) => {
      if (msg.port !== undefined) this.port = msg.port;
      if (msg.seen !== undefined) this.seen.push(msg.seen);
      if (msg.exit !== undefined) this.exited = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async start(...args: string[]): Promise<RaceServer> {
    const s = new RaceServer(args);
    defer(() => s.stop());
    await s.until(() => s.port !== 0);
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resolves once `cond` holds after some report of the server. */
  until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (cond()) resolve();
        else if (this.exited) reject(new Error('the race server exited'));
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /**
   * Sends one more request and waits for the server's report of it: the server reports in
   * the order it reads, so every request before it (a resent one too) has been reported.
   */
  async barrier(pool: Client): Promise<void> {
    await pool.get('/barrier').catch(() => {}); // the early server answers 413 and closes
    await this.until(() => this.seen.at(-1) === 'GET /barrier');
  }

  /** Blocks this thread (no event of it runs) until the server has closed `n` connections in all. */
  blockUntilClosed(n: number): void {
    const deadline = Date.now() + 5000;
    for (let c = Atomics.load(this.closed, 0); c < n; c = Atomics.load(this.closed, 0)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the server closed ${c} connections, not ${n}, within 5 s`);
      Atomics.wait(this.closed, 0, c, left);
    }
  }

  async stop(): Promise<void> {
    this.worker.postMessage('stop');
    await this.until(() => this.exited).catch(() => {});
    await this.worker.terminate();
  }
}

