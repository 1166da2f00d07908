// Races against real servers: counts, not speed. Needs nginx and haproxy (both looked up on
// PATH and in /usr/sbin, or $NGINX / $HAPROXY). Everything listens on 127.0.0.1 and is
// stopped at the end.
//
//   node bench/races.mjs                       (after npm run build)
//   node bench/races.mjs --clients Pool,undici.Pool --rounds 5 --uploads 50
//   node bench/races.mjs --only early --upload-mib 8
//
// 1. Stale keep-alive POST: nginx with `keepalive_timeout 1s` closes an idle connection
//    with no Keep-Alive hint. Per round: 8 GETs (one per socket) make every socket
//    kept-alive, the client waits until 30 ms before nginx's close is due, blocks its
//    thread for 60 ms across it (Atomics.wait: the FINs arrive unread), then POSTs 8 at
//    once. Counts the POSTs lost (default 10 rounds: 80 POSTs per client).
// 2. Early answer to an upload: HAProxy (mode http) answers every request with
//    `http-request deny deny_status 413` before reading its body, and closes. Uploads of
//    1 MiB (--upload-mib), one at a time (--upload-concurrency), 200 (--uploads); counts
//    the 413s delivered.
//
// Clients: our Pool and NodePool, undici's Pool (8 connections each), in the same run.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool as UndiciPool } from 'undici';
import { NodePool, Pool } from '../dist/index.js';
import { findBinary, freePort, nginxConfig, startDaemon as startDaemonOf } from './daemons.mjs';

const CLIENTS = ['Pool', 'NodePool', 'undici.Pool'];
const { values: opt } = parseArgs({
  options: {
    clients: { type: 'string' },
    rounds: { type: 'string' },
    uploads: { type: 'string' },
    only: { type: 'string' },
    'upload-concurrency': { type: 'string' },
    'upload-mib': { type: 'string' },
  },
});
const clients = opt.clients?.split(',') ?? CLIENTS;
for (const c of clients) if (!CLIENTS.includes(c)) throw new Error(`unknown client ${c}; one of ${CLIENTS.join(', ')}`);
const ROUNDS = Number(opt.rounds ?? 10);
const UPLOADS = Number(opt.uploads ?? 200);
const UPLOAD_CONCURRENCY = Number(opt['upload-concurrency'] ?? 1);
const SOCKETS = 8;
const KEEPALIVE_MS = 1000;
const STALL_MS = 60;
const UPLOAD_MIB = Number(opt['upload-mib'] ?? 1);
const UPLOAD = Buffer.alloc(UPLOAD_MIB * 1024 * 1024, 0x61);

/** `name`'s executable, or a clear stop. */
function find(name, env) {
  const bin = findBinary(name, env);
  if (bin === null) throw new Error(`bench/races.mjs needs ${name} (apt-get install ${name}, or set $${env})`);
  return bin;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-races-'));
const cleanups = [() => fs.rmSync(dir, { recursive: true, force: true })];
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** A daemon run until the end of the script (see daemons.mjs). */
async function startDaemon(name, bin, args, port) {
  const d = await startDaemonOf(name, bin, args, port);
  cleanups.push(d.stop);
  return d;
}

async function startNginx() {
  const port = await freePort();
  const args = nginxConfig({ dir, port, http: `  keepalive_timeout ${KEEPALIVE_MS / 1000}s;`, location: 'return 200 "ok\\n";' });
  return startDaemon('nginx', find('nginx', 'NGINX'), args, port);
}

async function startHaproxy(backendPort) {
  const port = await freePort();
  const cfg = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(
    cfg,
    `global
  maxconn 4096

defaults
  mode http
  timeout connect 1s
  timeout client 10s
  timeout server 10s

frontend fe
  bind 127.0.0.1:${port}
  http-request deny deny_status 413
  default_backend be

backend be
  server s1 127.0.0.1:${backendPort}
`,
  );
  return startDaemon('haproxy', find('haproxy', 'HAPROXY'), ['-db', '-f', cfg], port);
}

/** A client: request(method, path, body) resolves with { status, text }. */
function makeClient(name, origin) {
  if (name === 'Pool' || name === 'NodePool') {
    const C = name === 'Pool' ? Pool : NodePool;
    const p = new C({ baseURL: origin, size: SOCKETS, requestTimeout: 10_000 });
    return {
      request: async (method, p2, body) => {
        const r = await p.request({ method, path: p2, body: body ?? undefined });
        return { status: r.statusCode, text: r.text() };
      },
      close: () => p.close(),
    };
  }
  const p = new UndiciPool(origin, { connections: SOCKETS, headersTimeout: 10_000, bodyTimeout: 10_000 });
  return {
    request: async (method, p2, body) => {
      const r = await p.request({ method, path: p2, body: body ?? undefined });
      return { status: r.statusCode, text: await r.body.text() };
    },
    close: () => p.close(),
  };
}

function describe(err) {
  const cause = err.cause?.code ?? err.cause?.message;
  return `${err.code ?? err.name}${cause === undefined ? '' : ` (cause ${cause})`}`;
}

const blocker = new Int32Array(new SharedArrayBuffer(4));

async function stalePosts(name, url) {
  const c = makeClient(name, url);
  let lost = 0;
  const errors = {};
  for (let round = 0; round < ROUNDS; round++) {
    // One GET per socket (8 at once over 8 connections): every socket is kept-alive from here.
    await Promise.all(Array.from({ length: SOCKETS }, () => c.request('GET', '/warm')));
    const servedAt = Date.now();
    await sleep(servedAt + KEEPALIVE_MS - STALL_MS / 2 - Date.now());
    Atomics.wait(blocker, 0, 0, STALL_MS); // the thread is busy while nginx closes the sockets
    const results = await Promise.allSettled(Array.from({ length: SOCKETS }, (_, i) => c.request('POST', `/post?r=${round}&i=${i}`, 'x')));
    for (const r of results) {
      if (r.status === 'fulfilled' && r.value.status === 200) continue;
      lost++;
      const k = r.status === 'fulfilled' ? `status ${r.value.status}` : describe(r.reason);
      errors[k] = (errors[k] ?? 0) + 1;
    }
  }
  await c.close();
  return { client: name, posts: ROUNDS * SOCKETS, lost, errors };
}

async function earlyAnswers(name, url) {
  const c = makeClient(name, url);
  let delivered = 0;
  let next = 0;
  const errors = {};
  const worker = async () => {
    for (let i = next++; i < UPLOADS; i = next++) {
      try {
        const r = await c.request('POST', `/upload?i=${i}`, UPLOAD);
        if (r.status === 413) delivered++;
        else errors[`status ${r.status}`] = (errors[`status ${r.status}`] ?? 0) + 1;
      } catch (err) {
        const k = describe(err);
        errors[k] = (errors[k] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, worker));
  await c.close();
  return { client: name, uploads: UPLOADS, mib: UPLOAD_MIB, concurrency: UPLOAD_CONCURRENCY, delivered, errors };
}

const out = { node: process.version, date: new Date().toISOString(), stale: [], early: [] };
try {
  if (opt.only !== 'early') {
    const nginx = await startNginx();
    for (const name of clients) {
      const r = await stalePosts(name, nginx.url);
      out.stale.push(r);
      console.log(`stale keep-alive POST (nginx keepalive_timeout 1s, ${STALL_MS} ms stall)  ${name.padEnd(12)} lost ${r.lost} of ${r.posts}  ${JSON.stringify(r.errors)}`);
    }
    await nginx.stop();
  }
  if (opt.only !== 'stale') {
    const backend = http.createServer((req, res) => req.resume().on('end', () => res.end('ok')));
    await new Promise((resolve) => backend.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => (backend.closeAllConnections(), backend.close(resolve))));
    const haproxy = await startHaproxy(backend.address().port);
    for (const name of clients) {
      const r = await earlyAnswers(name, haproxy.url);
      out.early.push(r);
      console.log(`early 413 to a ${UPLOAD_MIB} MiB upload (HAProxy http-request deny, c=${UPLOAD_CONCURRENCY})  ${name.padEnd(12)} delivered ${r.delivered} of ${r.uploads}  ${JSON.stringify(r.errors)}`);
    }
    await haproxy.stop();
  }
} finally {
  for (const f of cleanups.reverse()) await f();
}
console.log(JSON.stringify(out));
