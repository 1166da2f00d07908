// Per-request cost with benchmark.js, named like the Go design's benchmarks:
// Pools_Small/<client> and Pools_Large/<client>. One request at a time over
// `sockets` connections to the canned server (its own process).
//   npm run bench:micro [-- --quick]
import { fork } from 'node:child_process';
import Benchmark from 'benchmark';
import { CLIENTS, makeClient } from './clients.mjs';

const quick = process.argv.includes('--quick');
const server = fork(new URL('./server.mjs', import.meta.url), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const origin = `http://127.0.0.1:${port}`;

for (const [group, path] of [['Pools_Small', '/small'], ['Pools_Large', '/large']]) {
  const suite = new Benchmark.Suite(group);
  const open = [];
  for (const name of CLIENTS) {
    const client = await makeClient(name, origin, 8);
    await client.prepare?.(path);
    open.push(client);
    suite.add(`${group}/${name}`, {
      defer: true,
      ...(quick ? { maxTime: 0.3, minSamples: 2 } : { maxTime: 3 }),
      fn: (deferred) => client.get(path).then(() => deferred.resolve()),
    });
  }
  await new Promise((resolve) => {
    suite
      .on('cycle', (e) => {
        const t = e.target;
        process.stdout.write(`${t.name.padEnd(36)} ${(1e6 / t.hz).toFixed(1).padStart(9)} us/op  ±${t.stats.rme.toFixed(1)}%  (${t.stats.sample.length} samples)\n`);
      })
      .on('complete', resolve)
      .run({ async: true });
  });
  for (const c of open) await c.close();
}
server.kill();
