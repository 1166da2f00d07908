// The least a Node client can do per request, for bench/cli.mjs: `-c` plain sockets,
// each writing one fixed request as soon as the fixed-length answer to the one before
// has been read, reads into one reused buffer (no allocation), no parsing, no timing.
// What it costs per request is Node's and the kernel's part alone: the floor under any
// Node load tool on this machine.
//
//   node bench/floor.mjs URL -c 64 -d 10     prints {"completed":N,"seconds":S}
import * as net from 'node:net';
import { parseArgs } from 'node:util';

const { values: opt, positionals } = parseArgs({ allowPositionals: true, options: { c: { type: 'string' }, d: { type: 'string' } } });
const url = new URL(positionals[0]);
const conns = Number(opt.c ?? 64);
const seconds = Number(opt.d ?? 10);
const request = Buffer.from(`GET ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`, 'latin1');

/** The whole answer's length, learnt once from a throwaway socket. */
const length = await new Promise((resolve, reject) => {
  let data = Buffer.alloc(0);
  const s = net.connect({ host: url.hostname, port: Number(url.port) }, () => s.write(request));
  s.on('error', reject);
  s.on('data', (d) => {
    data = Buffer.concat([data, d]);
    const end = data.indexOf('\r\n\r\n');
    const m = end < 0 ? null : /content-length: *(\d+)/i.exec(data.subarray(0, end).toString('latin1'));
    if (m && data.length >= end + 4 + Number(m[1])) {
      s.destroy();
      resolve(end + 4 + Number(m[1]));
    }
  });
});

let completed = 0;
let running = true;
const start = performance.now();
setTimeout(() => (running = false), seconds * 1000);
const buffer = Buffer.allocUnsafe(64 * 1024);
await Promise.all(
  Array.from(
    { length: conns },
    () =>
      new Promise((resolve, reject) => {
        let got = 0;
        const s = net.connect({
          host: url.hostname,
          port: Number(url.port),
          noDelay: true,
          onread: {
            buffer,
            callback(n) {
              got += n;
              while (got >= length) {
                got -= length;
                completed++;
                if (running) s.write(request);
                else {
                  s.destroy();
                  resolve();
                }
              }
              return true;
            },
          },
        });
        s.on('connect', () => s.write(request));
        s.on('error', reject);
      }),
  ),
);
process.stdout.write(JSON.stringify({ completed, seconds: (performance.now() - start) / 1000 }) + '\n');
