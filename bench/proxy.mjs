// Through real proxies (tinyproxy, squid) against direct, for http targets (absolute
// form) and https targets (a CONNECT tunnel per socket, TLS inside): requests/s, CPU µs
// per request of the client process, how the requests spread over the sockets (the
// tunnels), and the re-dials. The target is bench/server.mjs in its own process; each
// proxy is its own process too. Rounds alternate the routes, so that the shared
// machine's drift falls on all of them alike; the medians are reported.
//   node bench/proxy.mjs [--rounds 3] [--requests 10000] [--concurrency 32] [--backends Pool,NodePool]
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { NodePool, Pool } from '../dist/index.js';
import { startSquid, startTinyproxy } from './proxies.mjs';

const { values: v } = parseArgs({ options: { rounds: { type: 'string' }, requests: { type: 'string' }, concurrency: { type: 'string' }, backends: { type: 'string' }, out: { type: 'string' } } });
const ROUNDS = Number(v.rounds ?? 3);
const N = Number(v.requests ?? 10000);
const C = Number(v.concurrency ?? 32);
const SIZE = 8;
const BACKENDS = (v.backends ?? 'Pool,NodePool').split(',');
const ca = fs.readFileSync(new URL('../test/fixtures/ca.pem', import.meta.url));

async function startServer(args) {
  const child = fork(new URL('./server.mjs', import.meta.url), args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  return { port, stop: () => child.kill() };
}

async function run(cls, baseURL, proxy) {
  const pool = new cls({ baseURL, size: SIZE, tls: { ca }, ...(proxy === null ? {} : { proxy }) });
  const load = async (n) => {
    let next = 0;
    await Promise.all(Array.from({ length: C }, async () => {
      while (next++ < n) {
        const res = await pool.get('/small');
        if (res.statusCode !== 200 || res.body.length !== 64) throw new Error(`bad response ${res.statusCode}`);
      }
    }));
  };
  await load(Math.min(2000, N)); // warm-up: sockets open, JIT warm
  const before = pool.stats();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await load(N);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const after = pool.stats();
  await pool.close();
  const perSocket = after.origins[0].sockets.map((s, i) => s.requests - before.origins[0].sockets[i].requests);
  return {
    rps: (N / ms) * 1000,
    cpuUs: (cpu.user + cpu.system) / N,
    spread: perSocket,
    redials: after.totals.reconnects - before.totals.reconnects,
    errors: after.totals.errors - before.totals.errors,
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const plain = await startServer([]);
const secure = await startServer(['--tls']);
const proxies = [];
for (const start of [startTinyproxy, startSquid]) {
  const p = await start();
  if (p.skip !== undefined) console.log(`skipped: ${p.skip}`);
  else proxies.push(p);
}
const routes = [{ name: 'direct', url: null }, ...proxies.map((p) => ({ name: p.name, url: p.url }))];
const targets = [
  { name: 'http (absolute form)', baseURL: `http://127.0.0.1:${plain.port}` },
  { name: 'https (CONNECT tunnel)', baseURL: `https://localhost:${secure.port}` },
];
const results = {};
try {
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order each round.
    const order = round % 2 === 0 ? routes : [...routes].reverse();
    for (const backend of BACKENDS) {
      for (const target of targets) {
        for (const route of order) {
          const key = `${backend} | ${target.name} | ${route.name}`;
          const r = await run(backend === 'Pool' ? Pool : NodePool, target.baseURL, route.url);
          (results[key] ??= []).push(r);
          process.stderr.write(`${key}: ${Math.round(r.rps)} req/s, ${r.cpuUs.toFixed(1)} µs/req, spread ${r.spread.join('/')}, re-dials ${r.redials}\n`);
        }
      }
    }
  }
} finally {
  plain.stop();
  secure.stop();
  for (const p of proxies) await p.stop();
}

const rows = [];
for (const [key, runs] of Object.entries(results)) {
  const [backend, target, route] = key.split(' | ');
  const direct = results[`${backend} | ${target} | direct`];
  const rps = median(runs.map((r) => r.rps));
  const cpu = median(runs.map((r) => r.cpuUs));
  const last = runs[runs.length - 1];
  rows.push({
    backend, target, route,
    rps: Math.round(rps),
    rpsVsDirect: +(rps / median(direct.map((r) => r.rps))).toFixed(2),
    cpuUsPerRequest: +cpu.toFixed(1),
    cpuVsDirect: +(cpu / median(direct.map((r) => r.cpuUs))).toFixed(2),
    spread: last.spread,
    redialsPerRequest: +(median(runs.map((r) => r.redials)) / N).toFixed(3),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  });
}
console.log(`| backend | target | route | req/s | vs direct | CPU µs/req | vs direct | requests per socket (last round) | re-dials per request |`);
console.log(`|---|---|---|---|---|---|---|---|---|`);
for (const r of rows) {
  console.log(`| ${r.backend} | ${r.target} | ${r.route} | ${r.rps} | ${r.rpsVsDirect}x | ${r.cpuUsPerRequest} | ${r.cpuVsDirect}x | ${r.spread.join('/')} | ${r.redialsPerRequest} |`);
}
const out = new URL(v.out ?? './results/proxy.json', import.meta.url);
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds: ROUNDS, requests: N, concurrency: C, size: SIZE, rows }, null, 2) + '\n');
