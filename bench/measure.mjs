// One measurement in a process of its own: one client, one body size, one concurrency.
// run.mjs forks it once per run of every cell, so that no client's loaded modules, heap
// or JIT state slow another (a large heap makes every GC that 1 MiB bodies trigger
// longer), and reads the result from the IPC channel.
//
// Heap per request: the young generation is set larger than what the window allocates
// (run.mjs passes --max/min-semi-space-size for small bodies), gc() runs before the window, and the
// used-heap delta is divided by the request count. A PerformanceObserver counts GCs;
// if one ran in the window, the figure is null (invalid), never guessed.
import { PerformanceObserver } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import { Histogram } from '../dist/cli/histogram.js';
import { makeClient } from './clients.mjs';

if (typeof gc !== 'function') throw new Error('run with --expose-gc');
const { name, origin, path, n, concurrency, sockets, pipelining } = JSON.parse(process.argv[2]);

let gcCount = 0;
new PerformanceObserver((list) => (gcCount += list.getEntries().length)).observe({ entryTypes: ['gc'] });
const nextTurn = () => new Promise((r) => setTimeout(r, 0)); // lets the observer report

const client = await makeClient(name, origin, sockets, pipelining);
await client.prepare?.(path);

/** Sends `count` requests from `concurrency` loops; records latencies in µs into `hist`, if given. */
async function load(count, hist) {
  if (client.chain !== undefined) return client.chain(path, count, concurrency, hist);
  let started = 0;
  const loop = async () => {
    while (started < count) {
      started++;
      const t = performance.now();
      await client.get(path);
      hist?.record((performance.now() - t) * 1000);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}

// Warm-up as long as the window: a fresh process starts with cold JIT tiers, and a
// short warm-up leaves part of the climb in the measured window (seen: 31 µs/request
// after 5 000 requests, 23 µs after 20 000, for the same client).
await load(n, null);

const latency = new Histogram();
gc();
await nextTurn();
const gcBefore = gcCount;
const heapBefore = v8.getHeapStatistics().used_heap_size;
const cpuBefore = process.cpuUsage();
const t0 = performance.now();
await load(n, latency);
const elapsed = performance.now() - t0;
const cpu = process.cpuUsage(cpuBefore);
const heapAfter = v8.getHeapStatistics().used_heap_size;
await nextTurn();
await client.close();

process.send({
  rps: n / (elapsed / 1000),
  cpuUsPerReq: (cpu.user + cpu.system) / n,
  p50: latency.quantile(0.5) / 1000,
  p99: latency.quantile(0.99) / 1000,
  heapPerReq: gcCount === gcBefore ? (heapAfter - heapBefore) / n : null,
});
process.disconnect();
