// How to feed llhttp from a socket, measured without the rest of a client: 8 sockets to the
// canned server, one 64-byte response in flight on each.
//   data     'data' events, execute(chunk); llhttp frames the body (kOnBody)
//   consume  parser.consume(handle): llhttp reads the socket itself (kOnExecute per read)
//   onread   onread into one buffer per socket; llhttp gets the head only, the body is
//            copied beside it (what Pool does; here each read holds one whole response,
//            which holds against this server, one request in flight per socket)
//   node bench/feeding.mjs [requests per run, default 200000]
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import * as net from 'node:net';

const { HTTPParser } = createRequire(import.meta.url)('_http_common');
const total = Number(process.argv[2] ?? 200_000);
const SOCKETS = 8;

const server = fork(new URL('./server.mjs', import.meta.url), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const request = Buffer.from(`GET /small HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`);

function run(mode) {
  let done = 0;
  let marked = null;
  return new Promise((resolve) => {
    const answered = (socket) => {
      done++;
      // The first half warms up; the second half is measured.
      if (done === total / 2) marked = { t: performance.now(), cpu: process.cpuUsage() };
      if (done < total) return void socket.write(request);
      const ms = performance.now() - marked.t;
      const cpu = process.cpuUsage(marked.cpu);
      sockets.forEach((s) => s.destroy());
      resolve({ rps: (total / 2 / ms) * 1000, us: (cpu.user + cpu.system) / (total / 2) });
    };
    const sockets = Array.from({ length: SOCKETS }, () => open(mode, answered));
  });
}

function open(mode, answered) {
  const p = new HTTPParser();
  let socket;
  if (mode === 'onread') {
    const buf = Buffer.allocUnsafe(64 * 1024);
    let length = 0;
    p[HTTPParser.kOnHeadersComplete] = (_major, _minor, headers) => {
      length = Number(headers[headers.findIndex((h) => h.toLowerCase() === 'content-length') + 1]);
      return 1; // no body for llhttp: it is copied below
    };
    const callback = () => {
      const end = buf.indexOf('\r\n\r\n') + 4;
      p.execute(buf.subarray(0, end));
      const body = Buffer.allocUnsafe(length);
      buf.copy(body, 0, end, end + length);
      answered(socket);
      return true;
    };
    socket = net.connect({ port, host: '127.0.0.1', noDelay: true, onread: { buffer: buf, callback } });
  } else {
    let body = null;
    p[HTTPParser.kOnHeadersComplete] = () => 0;
    p[HTTPParser.kOnBody] = (b) => (body = b);
    p[HTTPParser.kOnMessageComplete] = () => answered(socket);
    socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    if (mode === 'data') socket.on('data', (chunk) => p.execute(chunk));
  }
  p.initialize(HTTPParser.RESPONSE, {}, 0, HTTPParser.kLenientNone);
  socket.on('connect', () => {
    if (mode === 'consume') {
      p[HTTPParser.kOnExecute] = () => {};
      p.consume(socket._handle);
    }
    socket.write(request);
  });
  return socket;
}

for (let r = 1; r <= 3; r++) {
  for (const mode of ['data', 'consume', 'onread']) {
    const { rps, us } = await run(mode);
    process.stdout.write(`run ${r}  ${mode.padEnd(8)} ${Math.round(rps).toString().padStart(6)} req/s  ${us.toFixed(1).padStart(5)} µs/request\n`);
  }
}
server.kill();
