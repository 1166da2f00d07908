// A large download through stream(): how far resident memory grows while a body much
// larger than memory should allow goes through, for a fast consumer and for a slow one
// (it stops for a timer turn every few pieces, so the socket is paused and resumed all
// along). The server runs in its own process and writes with backpressure.
//
//   node bench/stream.mjs [--mib 1024] [--clients Pool,NodePool]
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({ options: { mib: { type: 'string' }, clients: { type: 'string' }, child: { type: 'string' } } });
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
} else {
  const server = fork(new URL(import.meta.url), ['--child', 'server', '--mib', String(MIB)]);
  const port = await new Promise((r) => server.once('message', r));
  const lib = await import('../dist/index.js');
  const rows = [];
  for (const name of (opt.clients ?? 'Pool,NodePool').split(',')) {
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
