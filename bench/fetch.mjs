// Node's fetch through a Pool, against fetch with Node's own default dispatcher and
// fetch through undici 7's Agent({ connections: 8 }): 64 B and 1 MiB bodies, c = 64.
// Rounds alternate the three (a fresh process for each measurement, measure.mjs), so a
// noisy shared machine shifts all of them alike; the report is the median of each
// client's req/s and CPU per request, and the ratios against the default.
//
//   npm run bench:fetch                 5 rounds
//   node bench/fetch.mjs --rounds 9 --concurrency 64
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({ options: { rounds: { type: 'string' }, concurrency: { type: 'string' }, sizes: { type: 'string' }, quick: { type: 'boolean' } } });
const quick = opt.quick ?? false;
const rounds = Number(opt.rounds ?? (quick ? 1 : 5));
const concurrency = Number(opt.concurrency ?? 64);
const sizes = (opt.sizes ?? 'small,large').split(',');
const CLIENTS = ['fetch.default', 'fetch.Pool', 'fetch.undici.Agent'];
const REQUESTS = { small: quick ? 1000 : 10_000, large: quick ? 50 : 500 };
const sockets = 8;

const server = fork(new URL('./server.mjs', import.meta.url), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const origin = `http://127.0.0.1:${port}`;

function measure(name, path, n) {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./measure.mjs', import.meta.url), [JSON.stringify({ name, origin, path, n, concurrency, sockets, pipelining: 1 })], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result = null;
    child.on('message', (m) => (result = m));
    child.on('error', reject);
    child.on('exit', (code) => (result === null ? reject(new Error(`measuring ${name} failed (exit ${code})`)) : resolve(result)));
  });
}

const median = (xs) => {
  const v = xs.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  return v.length === 0 ? null : v[Math.floor((v.length - 1) / 2)];
};

const results = [];
for (const size of sizes) {
  const path = size === 'small' ? '/small' : '/large';
  const samples = Object.fromEntries(CLIENTS.map((c) => [c, []]));
  for (let r = 0; r < rounds; r++) {
    // Alternate the order too: whoever runs first in a round does not always run first.
    const order = r % 2 === 0 ? CLIENTS : [...CLIENTS].reverse();
    for (const name of order) samples[name].push(await measure(name, path, REQUESTS[size]));
    process.stderr.write(`${size} round ${r + 1}/${rounds}\n`);
  }
  const base = { rps: median(samples['fetch.default'].map((s) => s.rps)), cpu: median(samples['fetch.default'].map((s) => s.cpuUsPerReq)) };
  for (const name of CLIENTS) {
    const rps = median(samples[name].map((s) => s.rps));
    const cpu = median(samples[name].map((s) => s.cpuUsPerReq));
    // Per-round ratios against the default of the same round: what the noise cannot move.
    const rpsRatio = median(samples[name].map((s, i) => s.rps / samples['fetch.default'][i].rps));
    const cpuRatio = median(samples[name].map((s, i) => s.cpuUsPerReq / samples['fetch.default'][i].cpuUsPerReq));
    results.push({ size, concurrency, client: name, rounds, rps, cpuUsPerReq: cpu, rpsVsDefault: rpsRatio, cpuVsDefault: cpuRatio, base });
  }
}
server.kill();

const f = (x, d = 0) => (x === null ? 'n/a' : x.toFixed(d));
const lines = ['| body | client | req/s | CPU us/req | req/s vs default | CPU vs default |', '|---|---|---|---|---|---|'];
for (const r of results) lines.push(`| ${r.size} | ${r.client} | ${f(r.rps)} | ${f(r.cpuUsPerReq, 1)} | ${f(r.rpsVsDefault, 2)}x | ${f(r.cpuVsDefault, 2)}x |`);
const table = lines.join('\n');
process.stdout.write(`\nNode ${process.version} (undici ${process.versions.undici}), c = ${concurrency}, ${sockets} sockets, median of ${rounds} alternating rounds (ratios: per round, then median)\n\n${table}\n`);
const out = new URL('./results/fetch/', import.meta.url);
mkdirSync(out, { recursive: true });
const tag = `node${process.versions.node.split('.')[0]}${quick ? '-quick' : ''}`;
writeFileSync(new URL(`${tag}.json`, out), JSON.stringify({ node: process.version, undici: process.versions.undici, date: new Date().toISOString(), results }, null, 2) + '\n');
writeFileSync(new URL(`${tag}.md`, out), table + '\n');
