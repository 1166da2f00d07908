// The client side of the soak test, run as `node --expose-gc build/soak/child.js` by
// soak.test.ts beside it (mocha itself runs without --expose-gc). Sends HCP_SOAK_REQUESTS
// GETs over a Pool of 8 sockets to HCP_SOAK_URL, `concurrency` at a time, and prints
// one JSON line: how they settled, heap after gc at start and end, and open file
// descriptors (/proc/self/fd) before the pool and after close().
import * as fs from 'node:fs';
import type { Client } from '../../dist/index.js';
import { clientOf, turns } from '../support.js';

const url = process.env['HCP_SOAK_URL']!;
const total = Number(process.env['HCP_SOAK_REQUESTS'] ?? 200_000);
const backend = process.env['HCP_SOAK_BACKEND'] ?? 'Pool';
const concurrency = Number(process.env['HCP_SOAK_CONCURRENCY'] ?? 32);
const warmup = Math.min(2000, total);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

function fdList(): string[] {
  return fs.readdirSync('/proc/self/fd').map((fd) => {
    try {
      return `${fd}->${fs.readlinkSync(`/proc/self/fd/${fd}`)}`;
    } catch {
      return fd; // the directory handle of readdirSync itself, already closed
    }
  });
}

function fds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

async function heapAfterGC(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc!();
    await turns(2);
  }
  return process.memoryUsage().heapUsed;
}

async function run(pool: Client, count: number, tally: Tally): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      try {
        const res = await pool.get(`/s/${i % 64}`);
        if (res.statusCode === 200 && res.body.length > 0) tally.ok++;
        else tally.bad++;
      } catch (err) {
        const code = (err as { code?: string }).code ?? String(err);
        tally.failed[code] = (tally.failed[code] ?? 0) + 1;
        if (tally.samples.length < 5) tally.samples.push(`${code}: ${(err as Error).message} (phase ${(err as { phase?: string }).phase})`);
      }
      tally.settled++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

interface Tally {
  settled: number;
  ok: number;
  bad: number;
  failed: Record<string, number>;
  samples: string[];
}

async function main(): Promise<void> {
  const started = Date.now();
  const options = { baseURL: url, size: 8, requestTimeout: 10_000 };
  const make = (): Client => clientOf(backend, options);
  const tally: Tally = { settled: 0, ok: 0, bad: 0, failed: {}, samples: [] };
  // A throwaway pool first: Node and libuv open a few process-wide descriptors lazily on
  // first use (e.g. one on /dev/null); they are not the pool's and must not count.
  const scout = make();
  await run(scout, Math.min(500, warmup), { settled: 0, ok: 0, bad: 0, failed: {}, samples: [] });
  await scout.close();
  await turns(100);
  const fdsAtStart = fdList();
  const fdStart = fds();
  const pool = make();
  await run(pool, warmup, tally);
  const heapStart = await heapAfterGC();
  await run(pool, total - warmup, tally);
  const heapEnd = await heapAfterGC();
  const stats = pool.stats().totals;
  await pool.close();
  let fdEnd = fds();
  // Sockets destroyed by close() release their descriptors when libuv closes the handles.
  for (let i = 0; i < 10_000 && fdEnd > fdStart; i++) {
    await turns(1);
    fdEnd = fds();
  }
  const heapClosed = await heapAfterGC();
  const fdsLeft = fdEnd === fdStart ? [] : fdList().filter((f) => !fdsAtStart.includes(f));
  process.stdout.write(
    JSON.stringify({ total, ...tally, heapStart, heapEnd, heapClosed, fdStart, fdEnd, fdsLeft, reconnects: stats.reconnects, ms: Date.now() - started }) + '\n',
  );
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ crashed: String((err as Error).stack ?? err) }) + '\n');
  process.exitCode = 1;
});
