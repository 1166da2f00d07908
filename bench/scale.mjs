// Cost as the work grows: CPU per request and heap as one thing grows at a time, the
// rest held at the base case (8 sockets, 1 origin, a 1-header response, 64 requests
// at a time, `Pool.get`):
//   sockets      per origin: 8, 64, 512
//   busy         8, 64, 512 sockets with as many requests at a time (every socket busy)
//   origins      in one pool, one socket each, on 127.1.x.y: 1, 100, 1 000, 10 000
//                (each request to the next origin in turn)
//   headers      response header lines: 1, 20, 100
//   concurrency  requests at a time on 8 sockets: 1, 64, 4 096 (4 088 queued)
// Each cell is measured in a fresh process (a warm-up as long as the window first),
// against the canned server in processes of their own; the cells of an axis are
// measured in alternating order round after round (A B C, C B A, ...), and the ratio to
// the axis's first cell is taken within a round, then the median. Heap per idle origin
// and per idle socket: the used heap after gc() with every socket connected and idle,
// less the heap before the pool existed, grown over the axis's first cell, per origin or
// socket added.
//
//   node bench/scale.mjs                          every axis, 3 rounds
//   node bench/scale.mjs --axes origins --rounds 5
//   node bench/scale.mjs --quick                  small counts, one round (smoke)
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';

/** Origins per server process: a listener and a connection each, well under the fd limit. */
const PER_SERVER = 4000;

if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]));
else await main();

async function main() {
  const { values: opt } = parseArgs({
    options: {
      axes: { type: 'string', default: 'sockets,busy,origins,headers,concurrency' },
      rounds: { type: 'string' },
      quick: { type: 'boolean' },
      requests: { type: 'string', short: 'n' },
    },
  });
  const quick = opt.quick ?? false;
  const rounds = Number(opt.rounds ?? (quick ? 1 : 3));
  const n = Number(opt.requests ?? (quick ? 2000 : 20_000));
  const AXES = {
    sockets: [8, 64, 512].map((v) => ({ label: `${v} sockets`, sockets: v, origins: 1, headers: 1, concurrency: 64, count: v })),
    // Every socket busy, as the load tool runs (-c N --size N): the choice of a socket matters here.
    busy: [8, 64, 512].map((v) => ({ label: `${v} sockets, c=${v}`, sockets: v, origins: 1, headers: 1, concurrency: v, count: v })),
    origins: (quick ? [1, 100] : [1, 100, 1000, 10_000]).map((v) => ({ label: `${v} origins`, sockets: 1, origins: v, headers: 1, concurrency: 64, count: v })),
    headers: [1, 20, 100].map((v) => ({ label: `${v} headers`, sockets: 8, origins: 1, headers: v, concurrency: 64 })),
    concurrency: [1, 64, 4096].map((v) => ({ label: `c=${v}`, sockets: 8, origins: 1, headers: 1, concurrency: v })),
  };
  const axes = opt.axes.split(',');
  const maxOrigins = Math.max(1, ...axes.flatMap((a) => AXES[a].map((c) => c.origins)));
  // One origin per loopback address; a server process holds a listener and a
  // connection per address, so a few thousand addresses each keep it under the fd limit.
  const addresses = Array.from({ length: maxOrigins }, (_, i) => addressOf(i));
  const servers = [];
  const ports = [];
  for (let at = 0; at < addresses.length; at += PER_SERVER) {
    const server = fork(new URL('./server.mjs', import.meta.url), addresses.slice(at, at + PER_SERVER), { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    ports.push(await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim())))));
    servers.push(server);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const out = [];
  for (const axis of axes) {
    const cells = AXES[axis];
    const got = cells.map(() => ({ cpu: [], rps: [], ratio: [], heap: [] }));
    for (let r = 0; r < rounds; r++) {
      const order = cells.map((_, i) => i);
      if (r % 2 === 1) order.reverse();
      const round = [];
      for (const i of order) round[i] = await measure({ ...cells[i], ports, n });
      for (let i = 0; i < cells.length; i++) {
        got[i].cpu.push(round[i].cpuUsPerReq);
        got[i].rps.push(round[i].rps);
        got[i].ratio.push(round[i].cpuUsPerReq / round[0].cpuUsPerReq);
        got[i].heap.push(round[i].idleHeap);
      }
      process.stderr.write(`${axis} round ${r + 1}: ${cells.map((c, i) => `${c.label} ${round[i].cpuUsPerReq.toFixed(1)} µs`).join(', ')}\n`);
    }
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i];
      const heap = median(got[i].heap);
      // The growth over the first cell, per origin or socket added: the fixed cost of a pool and its code drops out.
      const per = c.count === undefined || i === 0 ? '' : `${Math.round((heap - median(got[0].heap)) / (c.count - cells[0].count))} B per ${axis === 'origins' ? 'origin' : 'socket'}`;
      out.push(`| ${axis} | ${c.label} | ${median(got[i].cpu).toFixed(1)} | ${median(got[i].ratio).toFixed(2)}x | ${got[i].ratio.map((x) => x.toFixed(2)).join(' ')} | ${Math.round(median(got[i].rps))} | ${Math.round(heap / 1024)} KiB | ${per} |`);
    }
  }
  for (const s of servers) s.kill();
  console.log(`\n${n} requests a window, ${rounds} round(s), Node ${process.version}; ratio: CPU per request / the axis's first cell's, within each round\n`);
  console.log('| axis | case | CPU µs/req (median) | ratio (median) | ratios per round | req/s | heap idle | per idle origin / socket |');
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(out.join('\n'));
}

function measure(cell) {
  return new Promise((resolve, reject) => {
    const child = fork(new URL(import.meta.url), ['--child', JSON.stringify(cell)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result = null;
    child.on('message', (m) => (result = m));
    child.on('error', reject);
    child.on('exit', (code) => (result === null ? reject(new Error(`measuring ${cell.label} failed (exit ${code})`)) : resolve(result)));
  });
}

/** The loopback address of origin `i`. */
function addressOf(i) {
  return i === 0 ? '127.0.0.1' : `127.1.${Math.floor(i / 250)}.${1 + (i % 250)}`;
}

async function child({ sockets, origins, ports, headers, concurrency, n }) {
  const { Pool } = await import('../dist/index.js');
  const urls = Array.from({ length: origins }, (_, i) => `http://${addressOf(i)}:${ports[Math.floor(i / PER_SERVER)]}`);
  const path = headers === 1 ? '/small' : `/h${headers}`;
  const targets = urls.map((u) => u + path);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const pool = new Pool({ baseURL: urls[0], size: sockets });
  // Every origin known and dialed, every socket connected.
  await Promise.all(targets.map((t) => pool.get(t)));
  await pool.ready();
  let next = 0;
  const load = async (count) => {
    let started = 0;
    const loop = async () => {
      while (started < count) {
        started++;
        const t = targets[next];
        next = next + 1 === targets.length ? 0 : next + 1;
        await pool.get(t);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
  };
  await load(n);
  gc();
  await new Promise((r) => setTimeout(r, 10));
  gc();
  const idleHeap = process.memoryUsage().heapUsed - heapBefore;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await load(n);
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  process.send({ cpuUsPerReq: (cpu.user + cpu.system) / n, rps: n / (elapsed / 1000), idleHeap });
  await pool.close();
  process.disconnect();
}
