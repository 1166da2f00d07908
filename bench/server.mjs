// Canned-response HTTP/1.1 server for the benchmarks, run as its own process so the
// clients measured do not share its event loop. Keep-alive, pipelining-safe: every
// request head read gets the fixed response of its path, in order.
//   /small -> 64-byte body     anything else -> 1 MiB body (/large)
// Prints its port on stdout, then serves until killed. With `--tls`: over TLS, with the
// test CA's "localhost" certificate (test/fixtures).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';

const SMALL = response(Buffer.alloc(64, 'x'));
const LARGE = response(Buffer.alloc(1024 * 1024, 'y'));

function response(body) {
  const head = `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nkeep-alive: timeout=60\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
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
      out.push(pending.startsWith('GET /small') ? SMALL : LARGE);
      pending = pending.slice(end + 4);
    }
    if (out.length === 1) socket.write(out[0]);
    else if (out.length > 1) socket.write(Buffer.concat(out));
  });
};
const server = secure
  ? tls.createServer({ noDelay: true, key: fs.readFileSync(new URL('server-key.pem', fixtures)), cert: fs.readFileSync(new URL('server.pem', fixtures)) }, onSocket)
  : net.createServer({ noDelay: true }, onSocket);
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('disconnect', () => process.exit(0));
