// Balance benchmark: how evenly each client spreads requests over 4 backends behind
// HAProxy (mode tcp, balance roundrobin), and whether backends enabled later get their
// share. Measures shares, not speed.
//
//   npm run bench:balance            (node bench/balance.mjs; needs haproxy installed)
//   node bench/balance.mjs --clients Pool,undici.Pool --requests 2000
//
// Cells: for each client, 8 connections (size / connections / maxSockets), 4,000 GETs
// at concurrency 1, 4 and 16, each cell with a fresh HAProxy and a fresh client. Then
// scale-up: HAProxy starts with s3 and s4 disabled, 4,000 GETs at concurrency 16, both
// enabled over the runtime API, traffic for 1.5 s (past maxConnAge 1000 + 10% jitter),
// then 4,000 more. Recycling knobs, where the client has one: Pool maxConnAge 1000,
// undici clientTtl 1000; NodePool and node:http's Agent have none.
//
// At concurrency 16, above the 8 connections, every connection is always busy and each
// backend's share follows how fast it answers on this machine, not the client's choice:
// test/balance asserts only the spread of the connections there, and this measures the
// shares.
//
// Writes bench/results/balance.json and bench/results/balance.svg; prints a table.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool as UndiciPool, RoundRobinPool } from 'undici';
import { NodePool, Pool } from '../dist/index.js';
import { findBinary, freePort } from './daemons.mjs';

const CLIENTS = ['Pool', 'NodePool', 'undici.Pool', 'undici.RoundRobinPool', 'node:http', 'fetch.Pool', 'fetch.default'];
const { values: opt } = parseArgs({
  options: {
    clients: { type: 'string' },
    requests: { type: 'string' },
    concurrency: { type: 'string' },
    sockets: { type: 'string' },
    out: { type: 'string' },
  },
});
const clients = opt.clients?.split(',') ?? CLIENTS;
const N = Number(opt.requests ?? 4000);
const concurrencies = (opt.concurrency ?? '1,4,16').split(',').map(Number);
const SOCKETS = Number(opt.sockets ?? 8);
const SCALE_CONCURRENCY = 16;
const MAX_AGE = 1000;
const SETTLE_MS = 1500;
const IDS = ['s1', 's2', 's3', 's4'];
for (const c of clients) if (!CLIENTS.includes(c)) throw new Error(`unknown client ${c}; one of ${CLIENTS.join(', ')}`);

// ---- haproxy

const HAPROXY = findBinary('haproxy', 'HAPROXY');
if (HAPROXY === null) {
  process.stderr.write('bench:balance needs HAProxy (apt-get install haproxy, or set $HAPROXY): not found on PATH or in /usr/sbin\n');
  process.exit(1);
}

const cleanups = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-balance-'));
cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));

function config(port, servers) {
  return `global
  stats socket ${path.join(dir, 'admin.sock')} level admin
  maxconn 4096

defaults
  mode tcp
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  retries 3
  option redispatch 1

frontend fe
  bind 127.0.0.1:${port}
  default_backend be

backend be
  balance roundrobin
${servers.map((s) => `  server ${s.id} 127.0.0.1:${s.port} check inter 100 fall 1 rise 1${s.disabled ? ' disabled' : ''}`).join('\n')}
`;
}

function command(cmd) {
  return new Promise((resolve, reject) => {
    let out = '';
    const s = net.connect(path.join(dir, 'admin.sock'), () => s.end(`${cmd}\n`));
    s.setEncoding('utf8');
    s.on('data', (d) => (out += d));
    s.once('error', reject);
    s.once('close', () => resolve(out));
  });
}

async function waitAdmin(alive) {
  for (let attempt = 0; ; attempt++) {
    if (!alive()) throw new Error('haproxy exited');
    const ok = await new Promise((resolve) => {
      const s = net.connect(path.join(dir, 'admin.sock'));
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt * 2)));
  }
}

/** Starts haproxy in front of `servers`; resolves with { url, waitLog, stop } once its event loop runs. */
async function startHaproxy(servers) {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const cfg = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(cfg, config(port, servers));
    fs.rmSync(path.join(dir, 'admin.sock'), { force: true });
    const child = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    let alive = true;
    const waiters = [];
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      log += d;
      for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i].re.test(log)) waiters.splice(i, 1)[0].resolve();
    });
    const exited = new Promise((resolve) => child.once('exit', () => ((alive = false), resolve())));
    const stop = async () => {
      if (alive) {
        child.kill('SIGKILL');
        await exited;
      }
    };
    try {
      // The admin socket, not the frontend: a probe there would take a round-robin turn.
      await waitAdmin(() => alive);
      const stat = await command('show stat');
      if (!/^fe,FRONTEND,.*,OPEN,/m.test(stat)) throw new Error(`frontend not open:\n${stat}`);
    } catch (err) {
      await stop();
      if (attempt === 2) throw new Error(`haproxy did not start: ${err.message}\n${log}`);
      continue;
    }
    const waitLog = (re) =>
      re.test(log) ? Promise.resolve() : new Promise((resolve, reject) => {
        waiters.push({ re, resolve });
        exited.then(() => reject(new Error(`haproxy exited:\n${log}`)));
      });
    return { url: `http://127.0.0.1:${port}`, waitLog, stop };
  }
}

// ---- backends (in this process: the bench counts shares, not speed)

const backends = [];
for (const id of IDS) {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    res.setHeader('x-backend', id);
    res.end(id);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  backends.push({ id, port: server.address().port, server });
  cleanups.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
}

// ---- clients: get(path) resolves with the answering backend's id

function makeClient(name, origin, recycle) {
  switch (name) {
    case 'Pool':
    case 'NodePool': {
      const C = name === 'Pool' ? Pool : NodePool;
      const p = new C({ baseURL: origin, size: SOCKETS, ...(recycle && name === 'Pool' ? { maxConnAge: MAX_AGE } : {}) });
      return { knob: recycle ? (name === 'Pool' ? `maxConnAge ${MAX_AGE}` : 'none') : '', get: (p2) => p.get(p2).then((r) => r.text()), close: () => p.close() };
    }
    case 'undici.Pool':
    case 'undici.RoundRobinPool': {
      const C = name === 'undici.Pool' ? UndiciPool : RoundRobinPool;
      const p = new C(origin, { connections: SOCKETS, ...(recycle ? { clientTtl: MAX_AGE } : {}) });
      const get = async (p2) => {
        const { body } = await p.request({ path: p2, method: 'GET' });
        return body.text();
      };
      return { knob: recycle ? `clientTtl ${MAX_AGE}` : '', get, close: () => p.close() };
    }
    case 'fetch.Pool':
    case 'fetch.default': {
      // Node's own fetch, through a Pool or with Node's default dispatcher (one keep-alive socket serves c = 1).
      const p = name === 'fetch.Pool' ? new Pool({ size: SOCKETS, ...(recycle ? { maxConnAge: MAX_AGE } : {}) }) : null;
      const init = p === null ? undefined : { dispatcher: p };
      const get = async (p2) => (await fetch(origin + p2, init)).text();
      return { knob: recycle ? (p === null ? 'none' : `maxConnAge ${MAX_AGE}`) : '', get, close: async () => p?.close() };
    }
    case 'node:http': {
      const agent = new http.Agent({ keepAlive: true, maxSockets: SOCKETS });
      const url = new URL(origin);
      const get = (p2) =>
        new Promise((resolve, reject) => {
          http
            .get({ host: url.hostname, port: url.port, path: p2, agent }, (res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (c) => (body += c));
              res.on('end', () => resolve(body));
              res.on('error', reject);
            })
            .on('error', reject);
        });
      return { knob: recycle ? 'none' : '', get, close: async () => agent.destroy() };
    }
  }
  throw new Error(name);
}

/** `n` GETs (or, with `untilMs`, as many as fit in that time) with `concurrency` workers; counts per backend. */
async function load(client, concurrency, { n = Infinity, untilMs = Infinity } = {}) {
  const counts = Object.fromEntries(IDS.map((id) => [id, 0]));
  let failed = 0;
  let started = 0;
  const end = performance.now() + untilMs;
  const errors = new Map();
  const worker = async () => {
    while (started < n && performance.now() < end) {
      started++;
      try {
        const id = await client.get('/');
        counts[id] = (counts[id] ?? 0) + 1;
      } catch (err) {
        failed++;
        const key = err.code ?? err.name;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ok = IDS.reduce((a, id) => a + counts[id], 0);
  const shares = Object.fromEntries(IDS.map((id) => [id, ok === 0 ? 0 : (100 * counts[id]) / ok]));
  return { requests: started, ok, failed, errors: Object.fromEntries(errors), counts, shares };
}

// ---- the run

const results = [];
const t0 = performance.now();
try {
  for (const name of clients) {
    for (const concurrency of concurrencies) {
      const h = await startHaproxy(backends);
      const client = makeClient(name, h.url, false);
      const r = await load(client, concurrency, { n: N });
      await client.close();
      await h.stop();
      results.push({ client: name, scenario: `c=${concurrency}`, concurrency, knob: '', ...r });
      process.stderr.write(`${name} c=${concurrency}: ${fmtShares(r.shares)}${r.failed ? `, ${r.failed} failed` : ''}\n`);
    }

    // Scale-up: s3 and s4 start disabled, are enabled mid-run.
    const h = await startHaproxy(backends.map((b) => ({ ...b, disabled: b.id === 's3' || b.id === 's4' })));
    const client = makeClient(name, h.url, true);
    const before = await load(client, SCALE_CONCURRENCY, { n: N });
    for (const s of ['s3', 's4']) await command(`enable server be/${s}`);
    await h.waitLog(/Server be\/s3 is UP/);
    await h.waitLog(/Server be\/s4 is UP/);
    const settle = await load(client, SCALE_CONCURRENCY, { untilMs: SETTLE_MS });
    const after = await load(client, SCALE_CONCURRENCY, { n: N });
    await client.close();
    await h.stop();
    results.push({ client: name, scenario: 'scale-up: before', concurrency: SCALE_CONCURRENCY, knob: client.knob, ...before });
    results.push({
      client: name,
      scenario: 'scale-up: after',
      concurrency: SCALE_CONCURRENCY,
      knob: client.knob,
      ...after,
      settle: { requests: settle.requests, failed: settle.failed, errors: settle.errors },
    });
    const failed = before.failed + settle.failed + after.failed;
    process.stderr.write(`${name} scale-up (${client.knob}): before ${fmtShares(before.shares)}; after ${fmtShares(after.shares)}${failed ? `, ${failed} failed` : ''}\n`);
  }
} finally {
  for (const c of cleanups.reverse()) await c();
}
const elapsed = (performance.now() - t0) / 1000;

function fmtShares(s) {
  return IDS.map((id) => `${id} ${s[id].toFixed(1)}%`).join(' ');
}

// ---- report

const lines = [];
lines.push(`| client | scenario | recycling | s1 | s2 | s3 | s4 | max dev. | failed |`);
lines.push(`|---|---|---|---|---|---|---|---|---|`);
for (const r of results) {
  const expected = r.scenario === 'scale-up: before' ? { s1: 50, s2: 50, s3: 0, s4: 0 } : { s1: 25, s2: 25, s3: 25, s4: 25 };
  const dev = Math.max(...IDS.map((id) => Math.abs(r.shares[id] - expected[id])));
  const failed = r.failed + (r.settle?.failed ?? 0);
  lines.push(
    `| ${r.client} | ${r.scenario}${r.scenario.startsWith('scale') ? '' : ''} | ${r.knob || '-'} | ${IDS.map((id) => `${r.shares[id].toFixed(1)}%`).join(' | ')} | ${dev.toFixed(1)} | ${failed} |`,
  );
}
const table = lines.join('\n');
process.stdout.write(
  `\nHAProxy mode tcp, balance roundrobin, 4 backends; ${SOCKETS} connections per client; ${N} GETs per cell; ` +
    `scale-up at concurrency ${SCALE_CONCURRENCY}, ${SETTLE_MS} ms of traffic after enabling s3, s4. ` +
    `"max dev.": largest distance in points from the fair share (25%, or 50/50/0/0 before scale-up). Node ${process.version}, ${elapsed.toFixed(1)} s.\n\n${table}\n`,
);

const outDir = new URL(opt.out ?? './results/', import.meta.url);
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(
  new URL('balance.json', outDir),
  JSON.stringify(
    { node: process.version, haproxy: 'mode tcp, balance roundrobin, 4 servers', sockets: SOCKETS, requests: N, scaleUpConcurrency: SCALE_CONCURRENCY, settleMs: SETTLE_MS, date: new Date().toISOString(), results },
    null,
    2,
  ) + '\n',
);
fs.writeFileSync(new URL('balance.svg', outDir), stackedChart(results));
process.stderr.write(`wrote ${new URL('balance.json', outDir).pathname} and balance.svg\n`);

/**
 * Horizontal 100% stacked bars, one per client, grouped by scenario; each colour a
 * backend. Dashed lines at 25/50/75% mark a fair spread over 4 backends. Same style
 * as bench/svg.mjs: no chart library, no fonts to load.
 */
function stackedChart(rows) {
  const colours = { s1: '#2a7ae2', s2: '#e8912d', s3: '#3aa55d', s4: '#9b59b6' };
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rowH = 22;
  const labelW = 190;
  const chartW = 480;
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  const parts = [];
  let y = 64;
  for (const sc of scenarios) {
    const group = rows.filter((r) => r.scenario === sc);
    const knob = group.some((r) => r.knob) ? ` (recycling: ${group.map((r) => `${r.client} ${r.knob || 'none'}`).join(', ')})` : '';
    parts.push(`<text x="10" y="${y + 14}" font-weight="bold">${esc(sc === 'scale-up: before' ? 'scale-up, s3 and s4 disabled' : sc === 'scale-up: after' ? 'scale-up, after enabling s3 and s4' : `all 4 enabled, concurrency ${sc.slice(2)}`)}</text>`);
    if (knob) parts.push(`<text x="10" y="${y + 30}" font-size="11" fill="#555">${esc(knob)}</text>`);
    y += knob ? 38 : 22;
    const top = y;
    for (const r of group) {
      parts.push(`<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(r.client)}</text>`);
      let x = labelW;
      for (const id of IDS) {
        const w = (r.shares[id] / 100) * chartW;
        if (w > 0) {
          parts.push(`<rect x="${x.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colours[id]}"><title>${esc(`${r.client}, ${sc}: ${id} ${r.shares[id].toFixed(1)}%`)}</title></rect>`);
          if (w >= 34) parts.push(`<text x="${(x + w / 2).toFixed(1)}" y="${y + 15}" text-anchor="middle" font-size="11" fill="#fff">${r.shares[id].toFixed(0)}%</text>`);
        }
        x += w;
      }
      const failed = r.failed + (r.settle?.failed ?? 0);
      if (failed) parts.push(`<text x="${labelW + chartW + 6}" y="${y + 15}" font-size="11" fill="#c00">${failed} failed</text>`);
      y += rowH;
    }
    for (const f of [0.25, 0.5, 0.75]) {
      const x = labelW + f * chartW;
      parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${y}" stroke="#000" stroke-opacity="0.35" stroke-dasharray="3,3"/>`);
    }
    y += 14;
  }
  const legend = IDS.map((id, i) => `<rect x="${labelW + i * 80}" y="34" width="12" height="12" fill="${colours[id]}"/><text x="${labelW + i * 80 + 17}" y="45">${id}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + chartW + 90}" height="${y + 10}" font-family="sans-serif" font-size="13">
  <text x="10" y="22" font-weight="bold">${esc(`Share of requests per backend behind HAProxy roundrobin, ${SOCKETS} connections, ${N} requests per bar`)}</text>
  <text x="10" y="45" font-size="11">backend:</text>${legend}
  ${parts.join('\n  ')}
</svg>
`;
}
