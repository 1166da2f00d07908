// Alternating rounds of fresh-process measurements (measure.mjs), for the same-run
// ratios this shared machine allows: each round measures every entry once, in
// A B C / C B A order, and ratios to the first entry are taken within the round.
// An entry is a client name of clients.mjs, optionally `NAME@DIR` for the build in
// another checkout (DIR/bench/clients.mjs and its dist/), so that two versions of ours
// are measured in the same rounds.
//
//   node bench/compare.mjs --entries node:http,NodePool,NodePool@/tmp/base --path /small -c 64 --rounds 5
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    entries: { type: 'string' },
    path: { type: 'string', default: '/small' },
    concurrency: { type: 'string', short: 'c', default: '64' },
    requests: { type: 'string', short: 'n' },
    rounds: { type: 'string', default: '5' },
    sockets: { type: 'string', default: '8' },
  },
});
const entries = opt.entries.split(',');
const path = opt.path;
const n = Number(opt.requests ?? (path === '/small' ? 20_000 : 1000));
const concurrency = Number(opt.concurrency);
const rounds = Number(opt.rounds);
const sockets = Number(opt.sockets);

const server = fork(new URL('./server.mjs', import.meta.url), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const origin = `http://127.0.0.1:${port}`;

function measure(entry) {
  const [name, dir] = entry.split('@');
  const script = dir === undefined ? new URL('./measure.mjs', import.meta.url) : new URL(`file://${dir}/bench/measure.mjs`);
  return new Promise((resolve, reject) => {
    const child = fork(script, [JSON.stringify({ name, origin, path, n, concurrency, sockets, pipelining: 1 })], {
      execArgv: ['--expose-gc', ...(path === '/small' ? ['--max-semi-space-size=128', '--min-semi-space-size=128'] : [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result = null;
    child.on('message', (m) => (result = m));
    child.on('error', reject);
    child.on('exit', (code) => (result === null ? reject(new Error(`measuring ${entry} failed (exit ${code})`)) : resolve(result)));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const rows = entries.map(() => ({ cpu: [], rps: [], cpuRatio: [], rpsRatio: [] }));
for (let r = 0; r < rounds; r++) {
  const order = entries.map((_, i) => i);
  if (r % 2 === 1) order.reverse();
  const got = [];
  for (const i of order) got[i] = await measure(entries[i]);
  for (let i = 0; i < entries.length; i++) {
    rows[i].cpu.push(got[i].cpuUsPerReq);
    rows[i].rps.push(got[i].rps);
    rows[i].cpuRatio.push(got[i].cpuUsPerReq / got[0].cpuUsPerReq);
    rows[i].rpsRatio.push(got[i].rps / got[0].rps);
  }
  process.stderr.write(`round ${r + 1}: ${entries.map((e, i) => `${e} ${got[i].cpuUsPerReq.toFixed(1)} µs ${Math.round(got[i].rps)}/s`).join(' | ')}\n`);
}
server.kill();
const f = (xs, d) => xs.map((x) => x.toFixed(d)).join(' ');
console.log(`\n${path}, c=${concurrency}, ${sockets} sockets, ${n} requests, ${rounds} rounds, Node ${process.version}; ratios to ${entries[0]} within each round\n`);
console.log('| entry | CPU µs/req (median) | CPU ratio median | CPU ratios per round | req/s (median) | req/s ratio median | req/s ratios per round |');
console.log('|---|---|---|---|---|---|---|');
for (let i = 0; i < entries.length; i++) {
  const x = rows[i];
  console.log(`| ${entries[i]} | ${median(x.cpu).toFixed(1)} | ${median(x.cpuRatio).toFixed(2)}x | ${f(x.cpuRatio, 2)} | ${Math.round(median(x.rps))} | ${median(x.rpsRatio).toFixed(2)}x | ${f(x.rpsRatio, 2)} |`);
}
