// Canned-response HTTP/1.1 server for the benchmarks, run as its own process so the
// clients measured do not share its event loop. Keep-alive, pipelining-safe: every
// request head read gets the fixed response of its path, in order.
//   /small -> 64-byte body     /hN -> 64-byte body, N header lines in all (scale.mjs)
//   anything else -> 1 MiB body (/large)
// Listens on 127.0.0.1, or on the same port of every loopback address given as
// arguments (scale.mjs: one origin per address). Prints its port on stdout, then serves
// until killed. With `--tls`: over TLS, with the test CA's "localhost" certificate
// (test/fixtures).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';

const SMALL = response(Buffer.alloc(64, 'x'));
const LARGE = response(Buffer.alloc(1024 * 1024, 'y'));
const WITH_HEADERS = new Map();

function response(body) {
  const head = `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nkeep-alive: timeout=60\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** The 64-byte response with `n` header lines: content-length and n - 1 others of a typical size. */
function withHeaders(n) {
  let head = 'HTTP/1.1 200 OK\r\ncontent-length: 64\r\n';
  for (let i = 1; i < n; i++) head += `x-header-${i}: value-of-header-number-${i}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), Buffer.alloc(64, 'x')]);
}

function answer(request) {
  if (request.startsWith('GET /small')) return SMALL;
  if (request.startsWith('GET /h')) {
    const n = parseInt(request.slice(6), 10);
    let r = WITH_HEADERS.get(n);
    if (r === undefined) WITH_HEADERS.set(n, (r = withHeaders(n)));
    return r;
  }
  return LARGE;
}

const fixtures = new URL('../test/fixtures/', import.meta.url);
const secure = process.argv.includes('--tls');
const onSocket = (socket) => {
  let pending = '';
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    pending += chunk.toString('latin1');
    // Bench requests are GETs without bodies: a request ends at its blank line.
    let end;
    const out = [];
    while ((end = pending.indexOf('\r\n\r\n')) !== -1) {
      out.push(answer(pending));
      pending = pending.slice(end + 4);
    }
    if (out.length === 1) socket.write(out[0]);
    else if (out.length > 1) socket.write(Buffer.concat(out));
  });
};
const server = secure
  ? tls.createServer({ noDelay: true, key: fs.readFileSync(new URL('server-key.pem', fixtures)), cert: fs.readFileSync(new URL('server.pem', fixtures)) }, onSocket)
  : net.createServer({ noDelay: true }, onSocket);
const args = process.argv.slice(2).filter((a) => a !== '--tls');
const addresses = args.length > 0 ? args : ['127.0.0.1'];
server.listen(0, addresses[0], async () => {
  const { port } = server.address();
  for (const address of addresses.slice(1)) {
    const more = net.createServer({ noDelay: true }, (socket) => server.emit('connection', socket));
    await new Promise((resolve, reject) => more.once('error', reject).listen(port, address, resolve));
  }
  process.stdout.write(`${port}\n`);
});
process.on('disconnect', () => process.exit(0));
