// Throughput driver: every client against the same canned server (its own process),
// fixed request count, `sockets` connections, concurrency 1, 8 and 64; small (64 B)
// and large (1 MiB) bodies. Reports req/s, CPU us per request, latency p50/p99 and
// heap bytes allocated per request, then ratios against undici and the raw limit.
// Every run of every client is measured in a fresh process (measure.mjs).
//
//   npm run bench                     full run (3 runs per cell, medians)
//   npm run bench -- --quick          a few-second smoke (CI)
//   npm run bench -- --clients Pool,undici.Pool --concurrency 64 --runs 5
import { fork } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CLIENTS } from './clients.mjs';
import { barChart } from './svg.mjs';

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    clients: { type: 'string' },
    concurrency: { type: 'string' },
    sizes: { type: 'string' },
    runs: { type: 'string' },
    sockets: { type: 'string' },
    pipelining: { type: 'string' },
    out: { type: 'string' },
  },
});

const quick = opt.quick ?? false;
const clients = opt.clients?.split(',') ?? CLIENTS;
const concurrencies = (opt.concurrency ?? (quick ? '8' : '1,8,64')).split(',').map(Number);
const sizes = (opt.sizes ?? 'small,large').split(',');
const runs = Number(opt.runs ?? (quick ? 1 : 3));
const sockets = Number(opt.sockets ?? 8);
const pipelining = Number(opt.pipelining ?? 1);
const REQUESTS = { small: quick ? 2000 : 20_000, large: quick ? 100 : 1000 };

const server = fork(new URL('./server.mjs', import.meta.url), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const origin = `http://127.0.0.1:${port}`;

/** One client, one cell, one run, in a fresh process of its own (see measure.mjs). */
function measureInChild(name, path, n, concurrency) {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./measure.mjs', import.meta.url), [JSON.stringify({ name, origin, path, n, concurrency, sockets, pipelining })], {
      // The large young generation lets a small-body window run without GC, so its heap
      // figure is valid. 1 MiB bodies trigger GCs whatever its size (external memory), and
      // there it only makes each GC slower, so large-body runs keep V8's default.
      execArgv: ['--expose-gc', ...(path === '/small' ? ['--max-semi-space-size=128', '--min-semi-space-size=128'] : [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result = null;
    child.on('message', (m) => (result = m));
    child.on('error', reject);
    child.on('exit', (code) => (result === null ? reject(new Error(`measuring ${name} failed (exit ${code})`)) : resolve(result)));
  });
}

const median = (xs) => {
  const v = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return v.length === 0 ? null : v[Math.floor((v.length - 1) / 2)];
};

const results = [];
for (const size of sizes) {
  const path = size === 'small' ? '/small' : '/large';
  for (const concurrency of concurrencies) {
    for (const name of clients) {
      const samples = [];
      for (let r = 0; r < runs; r++) samples.push(await measureInChild(name, path, REQUESTS[size], concurrency));
      const row = { size, concurrency, client: name, pipelining, runs };
      for (const k of ['rps', 'cpuUsPerReq', 'p50', 'p99', 'heapPerReq']) row[k] = median(samples.map((s) => s[k]));
      results.push(row);
      process.stderr.write(`${size} c=${concurrency} ${name}: ${Math.round(row.rps)} req/s\n`);
    }
  }
}
server.kill();

// ---- report
const find = (size, c, client) => results.find((r) => r.size === size && r.concurrency === c && r.client === client);
const fmt = (x, d = 0) => (x === null || x === undefined ? 'n/a' : x.toFixed(d));
const lines = [];
lines.push(`| body | conc | client | req/s | CPU us/req | p50 ms | p99 ms | heap B/req | vs undici.Pool | vs raw limit |`);
lines.push(`|---|---|---|---|---|---|---|---|---|---|`);
for (const r of results) {
  const u = find(r.size, r.concurrency, 'undici.Pool');
  const l = find(r.size, r.concurrency, 'raw-limit');
  lines.push(
    `| ${r.size} | ${r.concurrency} | ${r.client} | ${fmt(r.rps)} | ${fmt(r.cpuUsPerReq, 1)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.heapPerReq)} | ` +
      `${u ? fmt(r.rps / u.rps, 2) + 'x' : '-'} | ${l ? fmt(r.rps / l.rps, 2) + 'x' : '-'} |`,
  );
}
const table = lines.join('\n');
process.stdout.write(`\n${sockets} sockets, pipelining ${pipelining}, median of ${runs} run(s), Node ${process.version}\n\n${table}\n`);

const outDir = new URL(opt.out ?? './results/', import.meta.url);
mkdirSync(outDir, { recursive: true });
const name = quick ? 'quick' : pipelining > 1 ? `pipelining-${pipelining}` : 'latest';
writeFileSync(new URL(`${name}.json`, outDir), JSON.stringify({ node: process.version, sockets, pipelining, runs, date: new Date().toISOString(), results }, null, 2) + '\n');
writeFileSync(new URL(`${name}.md`, outDir), table + '\n');
const top = Math.max(...concurrencies);
for (const size of sizes) {
  const bars = clients.map((c) => ({ label: c, value: find(size, top, c)?.rps ?? 0 }));
  writeFileSync(new URL(`${name}-${size}.svg`, outDir), barChart(`${size === 'small' ? '64 B' : '1 MiB'} bodies, ${sockets} sockets, concurrency ${top}${pipelining > 1 ? `, pipelining ${pipelining}` : ''}: requests/s`, bars));
}
