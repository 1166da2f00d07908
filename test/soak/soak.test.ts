// Soak: HCP_SOAK_REQUESTS (default 200,000; CI nightly e.g. 5,000,000) GETs over a Pool
// of 8 sockets against a raw server that, seeded, closes kept-alive sockets after a
// response (with and without `Connection: close`), resets some idle sockets, and delays
// some responses. The client runs in a child `node --expose-gc` (mocha runs without it)
// so that heap after gc and /proc/self/fd can be measured in a process that holds only
// the pool. Asserts: every request settles; none fails (every one is an idempotent GET,
// and the server only ever closes or resets sockets that are idle from its side, so any
// failure is a GET failing because of a closed idle socket); heap after gc grows less
// than 5 MB from start (after a 2,000-request warm-up) to end; after close() the child
// has as many file descriptors open as before the pool existed.
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { cleanup, listen, spawnChild } from '../helpers.js';
import { rng } from '../fuzz/generator.js';

const REQUESTS = Number(process.env['HCP_SOAK_REQUESTS'] ?? 200_000);
const SEED = Number(process.env['HCP_SOAK_SEED'] ?? 7);
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child.js');

interface Counters {
  requests: number;
  closedWithHeader: number;
  closedSilently: number;
  resetIdle: number;
  delayed: number;
}

/** The misbehaving keep-alive server. Decisions come from one seeded stream. */
async function soakServer(seed: number) {
  const r = rng(seed);
  const c: Counters = { requests: 0, closedWithHeader: 0, closedSilently: 0, resetIdle: 0, delayed: 0 };
  const body = 'x'.repeat(64);
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let buffered = '';
    let pending = 0; // requests read and not yet answered
    let gone = false;
    const answer = (): void => {
      pending--;
      if (gone || socket.destroyed) return;
      c.requests++;
      const roll = r();
      if (roll < 0.02) {
        c.closedWithHeader++;
        gone = true;
        socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
        return;
      }
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      if (roll < 0.04) {
        // Closes the kept-alive socket right after the response, without saying so.
        c.closedSilently++;
        gone = true;
        socket.end();
      } else if (roll < 0.055) {
        // Resets the socket a little later if it is idle (from the server's side) by then.
        setImmediate(() => {
          if (pending === 0 && !gone && !socket.destroyed) {
            c.resetIdle++;
            gone = true;
            socket.resetAndDestroy();
          }
        });
      }
    };
    socket.on('data', (d: Buffer) => {
      if (gone) return;
      buffered += d.toString('latin1');
      for (let e = buffered.indexOf('\r\n\r\n'); e >= 0; e = buffered.indexOf('\r\n\r\n')) {
        buffered = buffered.slice(e + 4);
        pending++;
        if (r() < 0.03) {
          c.delayed++;
          setTimeout(answer, 1 + Math.floor(r() * 4));
        } else {
          answer();
        }
      }
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, counters: c };
}

interface Result {
  crashed?: string;
  total: number;
  settled: number;
  ok: number;
  bad: number;
  failed: Record<string, number>;
  samples: string[];
  heapStart: number;
  heapEnd: number;
  heapClosed: number;
  fdStart: number;
  fdEnd: number;
  fdsLeft: string[];
  reconnects: number;
  ms: number;
}

async function runChild(url: string, requests: number): Promise<Result> {
  const { out, err } = await spawnChild(child, [], {
    execArgv: ['--expose-gc'],
    env: { HCP_SOAK_URL: url, HCP_SOAK_REQUESTS: String(requests) },
    ipc: false,
  }).exited;
  try {
    return JSON.parse(out.trim().split('\n').pop()!) as Result;
  } catch {
    throw new Error(`soak child printed no result: ${out}\n${err}`);
  }
}

describe('soak', function () {
  this.timeout(Math.max(120_000, REQUESTS / 2));
  afterEach(cleanup);

  it(`${REQUESTS} GETs over 8 sockets against a server closing, resetting and delaying (seed ${SEED}): all succeed, no leak`, async () => {
    const { url, counters } = await soakServer(SEED);
    const res = await runChild(url, REQUESTS);
    const mb = (n: number): string => `${(n / 1048576).toFixed(2)} MB`;
    console.log(
      `      soak: ${res.total} requests in ${res.ms} ms, ${res.reconnects} reconnects; server: ${JSON.stringify(counters)}; ` +
        `heap ${mb(res.heapStart)} -> ${mb(res.heapEnd)} (closed ${mb(res.heapClosed)}); fds ${res.fdStart} -> ${res.fdEnd}`,
    );
    expect(res.crashed, 'child crashed').to.equal(undefined);
    expect(res.settled).to.equal(REQUESTS);
    expect({ failed: res.failed, samples: res.samples, bad: res.bad }).to.deep.equal({ failed: {}, samples: [], bad: 0 });
    expect(res.ok).to.equal(REQUESTS);
    // The server really misbehaved, in every way, many times.
    for (const k of ['closedWithHeader', 'closedSilently', 'resetIdle', 'delayed'] as const) expect(counters[k], k).to.be.greaterThan(REQUESTS / 1000);
    expect(res.heapEnd - res.heapStart, 'heap growth after gc').to.be.below(5 * 1024 * 1024);
    expect(res.fdEnd, `open fds after close(), new: ${res.fdsLeft.join(' ')}`).to.equal(res.fdStart);
  });
});
