// A server for test/faults/races.test.ts, run as a child process (forked, so it reports
// over IPC) because the races it provokes need the server to act while the client's
// thread is blocked. Loopback only.
//
//   server.js idle <ms>       answers every request with 200 and its request line, and
//                             closes (FIN) a connection idle for <ms> after a response,
//                             with no Keep-Alive hint; reports { closed } after each close
//   server.js early fin|rst   answers a request head with 413 and `Connection: close`
//                             at once, without reading the body; `fin`: ends (FIN), then
//                             closes with the body unread (reset); `rst`: closes at once;
//                             `none`: closes at once without answering; a third argument
//                             `tls` serves it over TLS (test/fixtures' localhost certificate)
//
//   server.js cut             answers requests in order, pipelined ones too, with 200 and the
//                             request line as body; a path starting /cut-fin or /cut-rst gets
//                             its head and half its body, then the connection ends (FIN) or
//                             is reset (RST), with the requests pipelined behind it unanswered
//
// Reports { port } when listening and { seen: 'METHOD /path' } for every request head.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';

const [mode, arg, secure] = process.argv.slice(2);
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures');
const send = (msg: object): void => void process.send!(msg);

const EARLY_BODY = 'request entity too large\n';
const EARLY = `HTTP/1.1 413 Payload Too Large\r\nconnection: close\r\ncontent-length: ${EARLY_BODY.length}\r\n\r\n${EARLY_BODY}`;

const serve = (socket: net.Socket): void => {
  socket.on('error', () => {});
  let buffered = Buffer.alloc(0);
  let idle: NodeJS.Timeout | null = null;
  const onData = (d: Buffer): void => {
    buffered = Buffer.concat([buffered, d]);
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString('latin1');
      const line = head.slice(0, head.indexOf('\r\n'));
      const m = /\r\ncontent-length: *(\d+)/i.exec(head);
      const length = m === null ? 0 : Number(m[1]);
      if (mode === 'early') {
        send({ seen: line.split(' ').slice(0, 2).join(' ') });
        socket.removeListener('data', onData);
        socket.pause(); // the upload stays unread
        if (arg === 'none') {
          socket.destroy(); // no answer: the body unread makes it a reset
        } else if (arg === 'rst') {
          socket.write(EARLY);
          socket.destroy();
        } else {
          socket.end(EARLY, () => socket.destroy());
        }
        return;
      }
      if (buffered.length < end + 4 + length) return;
      buffered = buffered.subarray(end + 4 + length);
      send({ seen: line.split(' ').slice(0, 2).join(' ') });
      const body = line;
      if (mode === 'cut') {
        const target = line.split(' ')[1] ?? '';
        if (target.startsWith('/cut-')) {
          socket.removeListener('data', onData);
          const full = body.repeat(4);
          socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${full.length}\r\n\r\n${full.slice(0, full.length >> 1)}`);
          if (target.startsWith('/cut-rst')) socket.resetAndDestroy();
          else socket.end();
          return;
        }
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        continue;
      }
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      if (idle !== null) clearTimeout(idle);
      idle = setTimeout(() => socket.destroy(), Number(arg));
    }
  };
  socket.on('data', onData);
  // Reported once the socket is closed: its FIN has left by then.
  socket.on('close', () => {
    if (idle !== null) clearTimeout(idle);
    if (mode === 'idle') send({ closed: 1 });
  });
};

const server =
  secure === 'tls'
    ? tls.createServer({ key: fs.readFileSync(path.join(fixtures, 'server-key.pem')), cert: fs.readFileSync(path.join(fixtures, 'server.pem')) }, serve)
    : net.createServer(serve);

server.listen(0, '127.0.0.1', () => send({ port: (server.address() as net.AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
