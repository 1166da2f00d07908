// A large download through stream(): how far resident memory grows while a body much
// larger than memory should allow goes through, for a fast consumer and for a slow one
// (it stops for a timer turn every few pieces, so the socket is paused and resumed all
// along). The server runs in its own process and writes with backpressure.
// Then a large upload: a streamed request body (an async generator of 1 MiB pieces,
// with a content-length and chunked) to a node:http server in its own process that
// counts what it reads; resident memory growth shows whether the writes follow the
// socket's backpressure.
//
//   node bench/stream.mjs [--mib 1024] [--clients Pool,NodePool] [--what download,upload]
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({ options: { mib: { type: 'string' }, clients: { type: 'string' }, child: { type: 'string' }, what: { type: 'string' } } });
const MIB = Number(opt.mib ?? 1024);

if (opt.child === 'server') {
  const net = await import('node:net');
  const piece = Buffer.alloc(1024 * 1024, 's');
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${MIB * 1024 * 1024}\r\n\r\n`);
      let left = MIB;
      const pump = () => {
        while (left > 0) {
          left--;
          if (!socket.write(piece)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else if (opt.child === 'upload-server') {
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (c) => (n += c.length));
    req.on('end', () => res.end(String(n)));
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else {
  const what = (opt.what ?? 'download,upload').split(',');
  const clients = (opt.clients ?? 'Pool,NodePool').split(',');
  if (what.includes('download')) await download(clients);
  if (what.includes('upload')) await upload(clients);
}

async function upload(clients) {
  const server = fork(new URL(import.meta.url), ['--child', 'upload-server']);
  const port = await new Promise((r) => server.once('message', r));
  const lib = await import('../dist/index.js');
  const piece = Buffer.alloc(1024 * 1024, 'u');
  const rows = [];
  for (const name of clients) {
    for (const framing of ['content-length', 'chunked']) {
      const pool = new lib[name]({ baseURL: `http://127.0.0.1:${port}`, size: 1 });
      globalThis.gc?.();
      const before = process.memoryUsage.rss();
      let peak = before;
      async function* body() {
        for (let i = 0; i < MIB; i++) {
          if ((i & 15) === 0) peak = Math.max(peak, process.memoryUsage.rss());
          yield piece;
        }
      }
      const headers = framing === 'chunked' ? undefined : { 'content-length': String(MIB * 1024 * 1024) };
      const t0 = performance.now();
      const res = await pool.post('/up', body(), { headers });
      const s = (performance.now() - t0) / 1000;
      peak = Math.max(peak, process.memoryUsage.rss());
      await pool.close();
      const got = Number(res.text());
      rows.push({ client: name, framing, mib: got / 1048576, seconds: s.toFixed(1), mibPerSec: Math.round(got / 1048576 / s), rssGrowthMiB: ((peak - before) / 1048576).toFixed(1) });
      process.stderr.write(`upload ${name} ${framing}: ${rows[rows.length - 1].rssGrowthMiB} MiB RSS growth\n`);
    }
  }
  server.kill();
  console.log(`\n${MIB} MiB uploaded as a streamed body, Node ${process.version}\n`);
  console.log('| client | framing | MiB received | seconds | MiB/s | RSS growth, MiB |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.client} | ${r.framing} | ${r.mib} | ${r.seconds} | ${r.mibPerSec} | ${r.rssGrowthMiB} |`);
}

async function download(clients) {
  const server = fork(new URL(import.meta.url), ['--child', 'server', '--mib', String(MIB)]);
  const port = await new Promise((r) => server.once('message', r));
  const lib = await import('../dist/index.js');
  const rows = [];
  for (const name of clients) {
    for (const slow of [false, true]) {
      const pool = new lib[name]({ baseURL: `http://127.0.0.1:${port}`, size: 1 });
      globalThis.gc?.();
      const before = process.memoryUsage.rss();
      let peak = before;
      let bytes = 0;
      let n = 0;
      const t0 = performance.now();
      const res = await pool.stream({ method: 'GET', path: '/big' });
      for await (const chunk of res.body) {
        bytes += chunk.length;
        if ((++n & 63) === 0) {
          peak = Math.max(peak, process.memoryUsage.rss());
          if (slow) await new Promise((r) => setTimeout(r, 1));
        }
      }
      const s = (performance.now() - t0) / 1000;
      await pool.close();
      rows.push({ client: name, consumer: slow ? 'slow' : 'fast', mib: bytes / 1048576, seconds: s.toFixed(1), mibPerSec: Math.round(bytes / 1048576 / s), rssGrowthMiB: ((peak - before) / 1048576).toFixed(1) });
      process.stderr.write(`${name} ${slow ? 'slow' : 'fast'}: ${rows[rows.length - 1].rssGrowthMiB} MiB RSS growth\n`);
    }
  }
  server.kill();
  console.log(`\n${MIB} MiB through stream(), Node ${process.version}\n`);
  console.log('| client | consumer | MiB | seconds | MiB/s | RSS growth, MiB |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.client} | ${r.consumer} | ${r.mib} | ${r.seconds} | ${r.mibPerSec} | ${r.rssGrowthMiB} |`);
}
