// Child process of contract/forget.test.ts, run with --expose-gc: one client of one
// backend (argv[2]) without baseURL sends one request to each of many origins on the
// parent's server (port argv[3]), in batches. After each batch the parent closes every
// connection; once the client has seen its sockets close, every origin must be gone
// from stats(). The heap is measured (after full collections) before the first batch
// and after the last; the result is printed as one JSON line.
//
// The origins differ by host name (o<i>.test), which `lookup` maps to 127.0.0.1: one
// loopback port gives as many origins as needed, and each origin also has an address
// book whose refresh timer must stop when the origin is forgotten.
import * as dc from 'node:diagnostics_channel';
import { check, clientOf, lookupTo, runMain, turns } from '../../support.js';

const [backend, portArg, batchesArg, batchSizeArg] = process.argv.slice(2) as [string, string, string, string];
const port = Number(portArg);
const BATCHES = Number(batchesArg);
const BATCH = Number(batchSizeArg);
/** Requests in flight at once within a batch. */
const CONCURRENCY = 50;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const lookup = lookupTo(['127.0.0.1']);

let connects = 0;
dc.subscribe('http-client-pool:connect', () => void connects++);

const inbox: unknown[] = [];
let wake: (() => void) | null = null;
process.on('message', (m) => {
  inbox.push(m);
  wake?.();
});

function message(): Promise<unknown> {
  if (inbox.length !== 0) return Promise.resolve(inbox.shift());
  return new Promise((resolve) => {
    wake = () => {
      wake = null;
      resolve(inbox.shift());
    };
  });
}

/**
 * Heap in use after full collections. Sockets destroyed just now emit 'close' a turn or
 * two later and are garbage only then: without the turns the figure varies by a MiB.
 */
async function heap(): Promise<number> {
  await turns(20);
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage().heapUsed;
}

const url = (i: number): string => `http://o${i}.test:${port}/`;
const p = clientOf(backend, { size: 2, lookup });

/** One request to each of origins from..from+n-1; returns how many origins stats() showed before their sockets closed. */
async function batch(from: number, n: number): Promise<{ live: number; liveHeap: number }> {
  for (let i = from; i < from + n; i += CONCURRENCY) {
    const ids = Array.from({ length: Math.min(CONCURRENCY, from + n - i) }, (_, k) => i + k);
    const res = await Promise.all(ids.map((id) => p.get(url(id))));
    check(res.every((r) => r.statusCode === 200), 'statuses');
  }
  await p.ready(); // Pool: every eagerly dialed socket is connected, so the server has it to close
  const live = p.stats().origins.length;
  const liveHeap = await heap();
  // The parent closes every connection once its server has accepted all of ours.
  process.send!({ op: 'close', connections: connects });
  check((await message()) === 'closed', 'closed');
  // The client sees the closes within a few turns of its event loop. (Bounded, so that
  // a client that keeps its origins still reports its heap.)
  for (let n = 0; p.stats().origins.length !== 0 && n < 10_000; n++) await turns(1);
  return { live, liveHeap };
}

async function main(): Promise<void> {
  // Warm-up: code compiled and caches filled before the baseline is taken.
  let next = 0;
  await batch(next, BATCH);
  next += BATCH;
  const before = await heap();
  const live: number[] = [];
  let liveHeap = 0;
  for (let b = 0; b < BATCHES; b++) {
    const r = await batch(next, BATCH);
    next += BATCH;
    live.push(r.live);
    liveHeap = Math.max(liveHeap, r.liveHeap);
  }
  const after = await heap();
  const known = p.stats().origins.length;
  // A forgotten origin is created afresh when used again.
  check((await p.get(url(BATCH))).statusCode === 200, 'again');
  const again = p.stats();
  p.destroy();
  process.stdout.write(
    `${JSON.stringify({
      origins: BATCHES * BATCH,
      live,
      known,
      before,
      after,
      liveHeap,
      again: { origins: again.origins.map((o) => o.origin), requests: again.totals.requests, reconnects: again.totals.reconnects },
    })}\n`,
  );
}

void runMain(main).finally(() => process.disconnect()); // the channel held the process while it waited for the parent
