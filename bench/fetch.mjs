// Node's fetch through a Pool, against fetch with Node's own default dispatcher and
// fetch through undici 7's Agent({ connections: 8 }): 64 B and 1 MiB bodies, c = 64.
// Each round is a fresh process that warms all three up, then measures them in
// alternating batches (the order turns every batch), so that the load of a shared
// machine, which moves from second to second, shifts all three alike. The report is the
// median over rounds of each client's req/s and CPU per request, and of the per-round
// ratios against the default (what the noise moves least).
//
//   npm run bench:fetch                          5 rounds
//   node bench/fetch.mjs --rounds 9 --sizes small
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const CLIENTS = ['fetch.default', 'fetch.Pool', 'fetch.undici.Agent'];
const SOCKETS = 8;

if (process.argv[2] === '--round') await round(JSON.parse(process.argv[3]));
else await main();

/** One round in this process: every client warmed up, then `batches` alternating measured batches each. */
async function round({ origin, path, n, concurrency, batches }) {
  const clients = {
    'fetch.default': undefined,
    'fetch.Pool': { dispatcher: new (await import('../dist/index.js')).Pool({ size: SOCKETS }) },
    'fetch.undici.Agent': { dispatcher: new (await import('undici')).Agent({ connections: SOCKETS }) },
  };
  const load = async (init, count) => {
    let started = 0;
    const lane = async () => {
      while (started++ < count) await (await fetch(origin + path, init)).arrayBuffer();
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  };
  for (const name of CLIENTS) await load(clients[name], n);
  const totals = Object.fromEntries(CLIENTS.map((c) => [c, { ms: 0, cpu: 0, n: 0 }]));
  for (let b = 0; b < batches; b++) {
    const order = CLIENTS.map((_, i) => CLIENTS[(i + b) % CLIENTS.length]);
    for (const name of order) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await load(clients[name], n);
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      totals[name].ms += ms;
      totals[name].cpu += cpu.user + cpu.system;
      totals[name].n += n;
    }
  }
  for (const name of CLIENTS) await clients[name]?.dispatcher.close();
  process.send(Object.fromEntries(CLIENTS.map((c) => [c, { rps: totals[c].n / (totals[c].ms / 1000), cpuUsPerReq: totals[c].cpu / totals[c].n }])));
  process.exit(0);
}

async function main() {
  const { values: opt } = parseArgs({ options: { rounds: { type: 'string' }, concurrency: { type: 'string' }, sizes: { type: 'string' }, quick: { type: 'boolean' } } });
  const quick = opt.quick ?? false;
  const rounds = Number(opt.rounds ?? (quick ? 1 : 5));
  const concurrency = Number(opt.concurrency ?? 64);
  const sizes = (opt.sizes ?? 'small,large').split(',');
  const N = { small: quick ? 500 : 3000, large: quick ? 20 : 150 };
  const BATCHES = quick ? 1 : 3;

  const server = fork(new URL('./server.mjs', import.meta.url), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const origin = `http://127.0.0.1:${port}`;
  const runRound = (path, n) =>
    new Promise((resolve, reject) => {
      const child = fork(new URL(import.meta.url), ['--round', JSON.stringify({ origin, path, n, concurrency, batches: BATCHES })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      let result = null;
      child.on('message', (m) => (result = m));
      child.on('error', reject);
      child.on('exit', (code) => (result === null ? reject(new Error(`a round failed (exit ${code})`)) : resolve(result)));
    });
  const median = (xs) => {
    const v = [...xs].sort((a, b) => a - b);
    return v[Math.floor((v.length - 1) / 2)];
  };

  const results = [];
  for (const size of sizes) {
    const path = size === 'small' ? '/small' : '/large';
    const samples = [];
    for (let r = 0; r < rounds; r++) {
      samples.push(await runRound(path, N[size]));
      process.stderr.write(`${size} round ${r + 1}/${rounds}\n`);
    }
    for (const name of CLIENTS) {
      results.push({
        size,
        concurrency,
        client: name,
        rounds,
        rps: median(samples.map((s) => s[name].rps)),
        cpuUsPerReq: median(samples.map((s) => s[name].cpuUsPerReq)),
        rpsVsDefault: median(samples.map((s) => s[name].rps / s['fetch.default'].rps)),
        cpuVsDefault: median(samples.map((s) => s[name].cpuUsPerReq / s['fetch.default'].cpuUsPerReq)),
        rpsVsAgent: median(samples.map((s) => s[name].rps / s['fetch.undici.Agent'].rps)),
        cpuVsAgent: median(samples.map((s) => s[name].cpuUsPerReq / s['fetch.undici.Agent'].cpuUsPerReq)),
      });
    }
  }
  server.kill();

  const f = (x, d = 0) => x.toFixed(d);
  const lines = ['| body | client | req/s | CPU us/req | req/s vs default | CPU vs default | req/s vs Agent | CPU vs Agent |', '|---|---|---|---|---|---|---|---|'];
  for (const r of results) {
    lines.push(`| ${r.size} | ${r.client} | ${f(r.rps)} | ${f(r.cpuUsPerReq, 1)} | ${f(r.rpsVsDefault, 2)}x | ${f(r.cpuVsDefault, 2)}x | ${f(r.rpsVsAgent, 2)}x | ${f(r.cpuVsAgent, 2)}x |`);
  }
  const table = lines.join('\n');
  process.stdout.write(`\nNode ${process.version} (undici ${process.versions.undici}), c = ${concurrency}, ${SOCKETS} sockets, ${rounds} rounds of ${BATCHES} alternating batches (medians; ratios per round, then the median)\n\n${table}\n`);
  const out = new URL('./results/fetch/', import.meta.url);
  mkdirSync(out, { recursive: true });
  const tag = `node${process.versions.node.split('.')[0]}${quick ? '-quick' : ''}`;
  writeFileSync(new URL(`${tag}.json`, out), JSON.stringify({ node: process.version, undici: process.versions.undici, date: new Date().toISOString(), results }, null, 2) + '\n');
  writeFileSync(new URL(`${tag}.md`, out), table + '\n');
}
