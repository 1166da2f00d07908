// Counts canTake() calls per request at c = sockets (every socket busy), or at c =
// CONCURRENCY: the cost of choosing a socket, without timing. It also prints how evenly
// the requests fell on the sockets (fewest and most a socket carried). DIR: a checkout
// with a built dist/.
//   node bench/choice.mjs [DIR] [SOCKETS] [CONCURRENCY]
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
const dir = path.resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
const { Pool } = await import(pathToFileURL(`${dir}/dist/index.js`).href);
const drv = await import(pathToFileURL(`${dir}/dist/conn/driver.js`).href);
import { fork } from 'node:child_process';
const sockets = Number(process.argv[3] ?? 64);
const c = Number(process.argv[4] ?? sockets);
const server = fork(new URL('./server.mjs', import.meta.url), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise((r) => server.stdout.once('data', (d) => r(Number(String(d).trim()))));
const Slot = Object.values(drv).find((v) => typeof v === 'function' && v.prototype?.canTake);
let calls = 0;
const orig = Slot.prototype.canTake;
Slot.prototype.canTake = function (r) { calls++; return orig.call(this, r); };
const p = new Pool({ baseURL: `http://127.0.0.1:${port}`, size: sockets });
await p.ready();
const n = 20000;
let carried = [];
/** Fewest and most requests a socket carried since `carried` was taken. */
function spread() {
  const now = p.stats().origins[0].sockets.map((s, i) => s.requests - carried[i]);
  return `a socket carried ${Math.min(...now)} to ${Math.max(...now)} (even: ${(n / sockets).toFixed(0)})`;
}
let started = 0;
const loop = async () => { while (started < n) { started++; await p.get('/small'); } };
calls = 0;
carried = p.stats().origins[0].sockets.map((s) => s.requests);
await Promise.all(Array.from({ length: c }, loop));
console.log(dir, `${sockets} sockets, c=${c}, get():`, (calls / n).toFixed(1), 'canTake calls a request;', spread());
// As the load tool sends: the next request from the end of the last, inside its callback.
started = 0;
calls = 0;
carried = p.stats().origins[0].sockets.map((s) => s.requests);
await new Promise((resolve) => {
  let ended = 0;
  const handler = {
    onResponseEnd() {
      if (++ended === n) resolve();
      else if (started < n) send();
    },
    onResponseError(_c, err) { throw err; },
  };
  const send = () => { started++; p.dispatch({ method: 'GET', path: '/small' }, handler); };
  for (let i = 0; i < c; i++) send();
});
console.log(dir, `${sockets} sockets, c=${c}, dispatch() chained:`, (calls / n).toFixed(1), 'canTake calls a request;', spread());
await p.close(); server.kill();
