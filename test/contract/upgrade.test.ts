// Connections that switch protocols, on both backends: undici.upgrade and undici.connect
// through the pool, Node's WebSocket with { dispatcher: pool } and through the global
// dispatcher (Node 22+; Node 20 has no WebSocket), against a node:http server. The socket
// leaves the pool with the bytes the server sent right behind its head, and the slot
// serves the next request on a new socket.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { expect } from 'chai';
import { connect, upgrade } from 'undici';
import { InvalidArgumentError, setGlobalDispatcher } from '../../dist/index.js';
import { cleanup, defer, listen } from '../helpers.js';
import { acceptWebSockets } from '../ws-echo.js';
import { BACKENDS } from './backends.js';

/** Answers plain requests with their path; an `echo` upgrade and CONNECT become echo tunnels, greeting in the same write as the head. */
async function switchingServer(): Promise<string> {
  const server = http.createServer((req, res) => res.end(`plain ${req.url}`));
  // Sockets past their head are the server's no more: each is destroyed after the test.
  const tunnels = new Set<Duplex>();
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
    tunnels.add(socket);
    if (req.headers.upgrade !== 'echo') return void socket.destroy();
    socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\nhello;');
    socket.on('data', (d: Buffer) => socket.write(d));
  });
  server.on('connect', (req: http.IncomingMessage, socket: Duplex) => {
    tunnels.add(socket);
    socket.write(`HTTP/1.1 200 Connection Established\r\n\r\ntunnel to ${req.url};`);
    socket.on('data', (d: Buffer) => socket.write(d));
  });
  const port = await listen(server);
  defer(() => new Promise<void>((r) => (server.closeAllConnections(), tunnels.forEach((t) => t.destroy()), server.close(() => r()))));
  return `http://127.0.0.1:${port}`;
}

async function wsServer(): Promise<string> {
  const server = http.createServer((_req, res) => res.end('plain'));
  const tunnels = new Set<Duplex>();
  server.on('upgrade', (_req: http.IncomingMessage, socket: Duplex) => void tunnels.add(socket));
  acceptWebSockets(server);
  const port = await listen(server);
  defer(() => new Promise<void>((r) => (server.closeAllConnections(), tunnels.forEach((t) => t.destroy()), server.close(() => r()))));
  return `ws://127.0.0.1:${port}`;
}

/** Reads `socket` until `text` has arrived; resolves with all read. */
function readUntil(socket: Duplex, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes(text)) resolve(got);
    });
    socket.on('error', reject);
  });
}

function echoOnce(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => ws.send(text));
    ws.addEventListener('message', (e) => resolve(String(e.data)));
    ws.addEventListener('error', () => reject(new Error('websocket error')));
  });
}

const HAS_WEBSOCKET = typeof globalThis.WebSocket === 'function';

for (const backend of BACKENDS) {
  describe(`${backend.name}: upgrade and CONNECT`, function () {
    this.timeout(20_000);
    afterEach(cleanup);

    it('undici.upgrade: the socket leaves the pool with the bytes behind the head; the slot serves the next request', async () => {
      const url = await switchingServer();
      const pool = backend.dispatcher({ size: 1 });
      const { socket, headers } = await upgrade(`${url}/up`, { dispatcher: pool, protocol: 'echo' });
      expect(headers['upgrade']).to.equal('echo');
      socket.write('ping;');
      expect(await readUntil(socket, 'ping;')).to.equal('hello;ping;');
      // The one slot is free again: a plain request goes on a new socket while the tunnel stays open.
      const res = await pool.request({ method: 'GET', path: `${url}/after` });
      expect(res.text()).to.equal('plain /after');
      socket.write('still;');
      expect(await readUntil(socket, 'still;')).to.include('still;');
      socket.destroy();
    });

    it('undici.connect: a 2xx to CONNECT hands over a tunnel', async () => {
      const url = await switchingServer();
      const pool = backend.dispatcher({ size: 1 });
      const { statusCode, socket } = await connect(url, { dispatcher: pool, path: 'example.test:443' } as Parameters<typeof connect>[1]);
      expect(statusCode).to.equal(200);
      socket.write('x;');
      // undici.connect puts a slash before the path it is given; the request target is what it sends.
      expect(await readUntil(socket, 'x;')).to.equal('tunnel to /example.test:443;x;');
      socket.destroy();
    });

    it("an upgrade needs the handler's upgrade method; CONNECT is refused outside dispatch()", async () => {
      const pool = backend.dispatcher({});
      expect(() => pool.dispatch({ origin: 'http://127.0.0.1:1', path: '/', method: 'GET', upgrade: 'echo' }, { onResponseError: () => {} })).to.throw(InvalidArgumentError, /onRequestUpgrade/);
      expect(() => pool.dispatch({ origin: 'http://127.0.0.1:1', path: '/', method: 'GET', upgrade: 'bad value' }, { onRequestUpgrade: () => {} })).to.throw(InvalidArgumentError);
      const err = await pool.request({ method: 'CONNECT', path: 'http://127.0.0.1:1/' }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(InvalidArgumentError);
    });

    (HAS_WEBSOCKET ? it : it.skip)("Node's WebSocket with { dispatcher: pool }, and through the global dispatcher", async () => {
      const url = await wsServer();
      const pool = backend.dispatcher({ size: 1 });
      const WS = globalThis.WebSocket as unknown as new (url: string, opts?: unknown) => WebSocket;
      const ws = new WS(url, { dispatcher: pool });
      expect(await echoOnce(ws, 'hello over the pool')).to.equal('hello over the pool');
      ws.close();
      setGlobalDispatcher(pool);
      defer(() => setGlobalDispatcher(null));
      const global = new WS(url);
      expect(await echoOnce(global, 'and globally')).to.equal('and globally');
      global.close();
      setGlobalDispatcher(null);
    });
  });
}
