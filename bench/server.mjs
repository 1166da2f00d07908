// Canned-response HTTP/1.1 server for the benchmarks, run as its own process so the
// clients measured do not share its event loop. Keep-alive, pipelining-safe: every
// request head read gets the fixed response of its path, in order.
//   /small -> 64-byte body     anything else -> 1 MiB body (/large)
// Prints its port on stdout, then serves until killed.
import * as net from 'node:net';

const SMALL = response(Buffer.alloc(64, 'x'));
const LARGE = response(Buffer.alloc(1024 * 1024, 'y'));

function response(body) {
  const head = `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nkeep-alive: timeout=60\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

const server = net.createServer({ noDelay: true }, (socket) => {
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
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('disconnect', () => process.exit(0));
