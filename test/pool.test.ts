// The raw-socket Pool against real loopback servers: dialing, round-robin and the
// wait queue, the exact bytes of requests, keep-alive, stale sockets and retries,
// and the context every rejection carries.
import * as http from 'node:http';
import * as net from 'node:net';
import { expect } from 'chai';
import {
  ConnectError,
  HttpClientPoolError,
  InvalidArgumentError,
  ParseError,
  SocketError,
  type Pool,
} from '../dist/index.js';
import { RequestEncoder, type Encoded } from '../dist/parser/request.js';
import { cleanup, defer, httpServer, listen, pool, rawServer, rejects, reply } from './helpers.js';

// ---- local helpers

/** Counts a server's connections and their closes; lets a test await a count (an event, not a sleep). */
class Tracker {
  readonly sockets: net.Socket[] = [];
  /** Every chunk each connection received, in order. */
  readonly chunks = new Map<net.Socket, Buffer[]>();
  closed = 0;
  private waiters: { ready: () => boolean; resolve: () => void }[] = [];

  constructor(server: net.Server) {
    server.on('connection', (s: net.Socket) => {
      this.sockets.push(s);
      const list: Buffer[] = [];
      this.chunks.set(s, list);
      s.on('data', (d: Buffer) => {
        list.push(d);
        this.check();
      });
      s.on('close', () => {
        this.closed++;
        this.check();
      });
      this.check();
    });
  }

  get connections(): number {
    return this.sockets.length;
  }

  /** All bytes received on all connections. */
  get bytes(): number {
    let n = 0;
    for (const list of this.chunks.values()) for (const c of list) n += c.length;
    return n;
  }

  until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready: cond, resolve }));
  }

  private check(): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.ready()) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}

/** A port nobody listens on (for now). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Listens on a given port; rejects with the listen error (EADDRINUSE). Closed after the test. */
function listenOn(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.removeListener('error', onError);
      const sockets = new Set<net.Socket>();
      server.on('connection', (s: net.Socket) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      defer(
        () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      );
      resolve();
    });
  });
}

/** Request target of a raw request head. */
function pathOf(head: string): string {
  return head.split(' ')[1]!;
}

/** Checks the context every rejection of the pool carries. */
function expectContext(err: HttpClientPoolError, origin: string, socketId: number | undefined, phase: string): void {
  expect(err).to.be.instanceOf(HttpClientPoolError);
  expect(err.origin, 'origin').to.equal(origin);
  expect(err.socketId, 'socketId').to.equal(socketId);
  expect(err.phase, 'phase').to.equal(phase);
}

function originOf(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/** A node:http server that answers with the client's port (which identifies the client's socket). */
async function portEchoServer(): Promise<{ server: http.Server; url: string; tracker: Tracker }> {
  const { server, url } = await httpServer((req, res) => res.end(String(req.socket.remotePort)));
  return { server, url, tracker: new Tracker(server) };
}

async function portOf(p: Pool, path: string): Promise<number> {
  const res = await p.get(path);
  expect(res.statusCode).to.equal(200);
  return Number(res.text());
}

// ---- tests

describe('Pool', () => {
  afterEach(cleanup);

  describe('dialing', () => {
    it('opens `size` sockets to the baseURL origin at construction, before any request', async () => {
      const { server, url } = await httpServer((_req, res) => res.end('ok'));
      const tracker = new Tracker(server);
      const p = pool({ baseURL: url, size: 5 });
      await tracker.until(() => tracker.connections === 5);
      expect(tracker.bytes, 'nothing written yet').to.equal(0);
      await p.ready();
      expect(p.stats().totals).to.include({ sockets: 5, connected: 5, requests: 0 });
      // Requests use those sockets: no sixth connection.
      await Promise.all(Array.from({ length: 10 }, () => p.get('/')));
      expect(tracker.connections).to.equal(5);
    });

    it('without baseURL, dials `size` sockets per distinct origin on its first use', async () => {
      const a = await portEchoServer();
      const b = await portEchoServer();
      const p = pool({ size: 3 });
      expect(p.stats().origins, 'no origin before the first call').to.have.length(0);
      expect((await p.get(a.url + '/x')).statusCode).to.equal(200);
      await a.tracker.until(() => a.tracker.connections === 3);
      expect(b.tracker.connections, 'the other origin is not dialed').to.equal(0);
      expect(p.stats().origins.map((o) => o.origin)).to.deep.equal([a.url]);
      expect((await p.get(b.url + '/y')).statusCode).to.equal(200);
      await b.tracker.until(() => b.tracker.connections === 3);
      // More traffic to both reuses their sockets: 2N connections in all.
      await Promise.all(Array.from({ length: 6 }, (_, i) => p.get((i % 2 === 0 ? a.url : b.url) + '/z')));
      expect([a.tracker.connections, b.tracker.connections]).to.deep.equal([3, 3]);
      const { origins, totals } = p.stats();
      expect(origins.map((o) => o.origin)).to.deep.equal([a.url, b.url]);
      expect(totals.sockets).to.equal(6);
    });

    it('an absolute URL to another origin gets its own sockets alongside the baseURL ones', async () => {
      const a = await portEchoServer();
      const b = await portEchoServer();
      const p = pool({ baseURL: a.url, size: 2 });
      await a.tracker.until(() => a.tracker.connections === 2);
      expect(await p.get(b.url + '/abs').then((r) => r.statusCode)).to.equal(200);
      await b.tracker.until(() => b.tracker.connections === 2);
      expect(await p.get('/rel').then((r) => r.statusCode)).to.equal(200);
      expect([a.tracker.connections, b.tracker.connections]).to.deep.equal([2, 2]);
    });

    it('a failed dial without any request is not an unhandled error', async () => {
      const port = await freePort();
      const unhandled: unknown[] = [];
      const onUnhandled = (err: unknown): void => {
        unhandled.push(err);
      };
      process.on('unhandledRejection', onUnhandled);
      process.on('uncaughtException', onUnhandled);
      defer(() => {
        process.removeListener('unhandledRejection', onUnhandled);
        process.removeListener('uncaughtException', onUnhandled);
      });
      const p = pool({ baseURL: originOf(port), size: 3 });
      // No event tells when the eager dials failed; stats() does. Poll it once per loop turn
      // (bounded, so that a broken pool fails this test instead of spinning forever).
      const giveUp = Date.now() + 5000;
      while (!p.stats().origins[0]!.sockets.every((s) => s.state === 'dead' && s.errors === 1)) {
        if (Date.now() > giveUp) throw new Error(`dials did not all fail: ${JSON.stringify(p.stats().origins[0]!.sockets)}`);
        await new Promise((r) => setImmediate(r));
      }
      // Let unhandled-rejection detection (after microtasks) and a few more turns run.
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      expect(unhandled).to.deep.equal([]);
    });

    it('rejects with ConnectError (ECONNREFUSED) after the request was tried on every slot', async () => {
      const port = await freePort();
      const p = pool({ baseURL: originOf(port), size: 3 });
      const err = await rejects(p.get('/'), ConnectError, 'HCP_CONNECT');
      // It moved 0 -> 1 -> 2 and failed with the last slot's error.
      expectContext(err, originOf(port), 2, 'dial');
      expect((err.cause as NodeJS.ErrnoException).code).to.equal('ECONNREFUSED');
      const sockets = p.stats().origins[0]!.sockets;
      expect(sockets.map((s) => s.state)).to.deep.equal(['dead', 'dead', 'dead']);
      expect(sockets.every((s) => s.errors >= 1)).to.equal(true);
    });

    it('a request whose slot cannot connect moves to the next slot and succeeds there', async () => {
      const portsSeen: string[] = [];
      const { server, url } = await rawServer((socket, head) => {
        portsSeen.push(`${pathOf(head)}@${socket.remotePort}`);
        if (pathOf(head) === '/bye') socket.end(reply('bye', 'connection: close\r\n'));
        else socket.write(reply(String(socket.remotePort)));
      });
      const tracker = new Tracker(server);
      const p = pool({ baseURL: url, size: 2 });
      await tracker.until(() => tracker.connections === 2);
      // Slot 0 serves /bye and its socket is closed; the server then stops accepting.
      expect((await p.get('/bye')).statusCode).to.equal(200);
      server.close(); // stops listening at once; slot 1's connection stays open
      // Slot 1 still has its socket.
      const viaSlot1 = await p.get('/b');
      // Round-robin gives slot 0, whose re-dial is refused: the request moves to slot 1.
      const moved = await p.get('/c');
      expect(moved.statusCode).to.equal(200);
      expect(moved.text()).to.equal(viaSlot1.text());
      expect(portsSeen.map((s) => s.split('@')[0])).to.deep.equal(['/bye', '/b', '/c']);
      const [s0, s1] = p.stats().origins[0]!.sockets;
      expect(s0).to.include({ state: 'dead', reconnects: 1, errors: 1, requests: 1 });
      expect(s1).to.include({ state: 'idle', reconnects: 0, errors: 0, requests: 2 });
    });

    it('a dead slot re-dials when next chosen: a server started later is reached', async () => {
      for (let attempt = 0; ; attempt++) {
        const port = await freePort();
        const p = pool({ baseURL: originOf(port), size: 1 });
        const err = await rejects(p.get('/'), ConnectError, 'HCP_CONNECT');
        expectContext(err, originOf(port), 0, 'dial');
        const server = http.createServer((_req, res) => res.end('up'));
        try {
          await listenOn(server, port);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
          throw e;
        }
        const res = await p.get('/');
        expect(res.statusCode).to.equal(200);
        expect(res.text()).to.equal('up');
        expect(p.stats().origins[0]!.sockets[0]).to.include({ state: 'idle', requests: 1 });
        return;
      }
    });

    it('ready() resolves once all N sockets are connected and rejects with the dial error', async () => {
      const { url } = await httpServer((_req, res) => res.end('ok'));
      const p = pool({ baseURL: url, size: 4 });
      await p.ready();
      const sockets = p.stats().origins[0]!.sockets;
      expect(sockets.map((s) => s.state)).to.deep.equal(['idle', 'idle', 'idle', 'idle']);
      expect(new Set(sockets.map((s) => s.localPort)).size).to.equal(4);

      const port = await freePort();
      const dead = pool({ baseURL: originOf(port), size: 2 });
      const err = await rejects(dead.ready(), ConnectError, 'HCP_CONNECT');
      expect(err.origin).to.equal(originOf(port));
      expect(err.phase).to.equal('dial');
      expect(err.socketId).to.be.oneOf([0, 1]);
    });
  });

  describe('round-robin and queue', () => {
    it('with concurrency 1, request k goes to socket k mod N', async () => {
      const { url, tracker } = await portEchoServer();
      const p = pool({ baseURL: url, size: 4 });
      const ports: number[] = [];
      for (let k = 0; k < 10; k++) ports.push(await portOf(p, `/${k}`));
      const first = ports.slice(0, 4);
      expect(new Set(first).size).to.equal(4);
      expect(ports).to.deep.equal([...first, ...first, first[0], first[1]]);
      // Slot k is the socket with that local port.
      const local = p.stats().origins[0]!.sockets.map((s) => s.localPort);
      expect(local).to.deep.equal(first);
      expect(tracker.connections).to.equal(4);
    });

    it('at full load every socket carries exactly one request and the rest wait', async () => {
      const N = 4;
      const held: http.ServerResponse[] = [];
      const batches: number[][] = [];
      const { server, url } = await httpServer((req, res) => {
        held.push(res);
        if (held.length === N) {
          batches.push(held.map((r) => r.req.socket.remotePort!));
          for (const r of held.splice(0)) r.end(r.req.url);
        }
      });
      const tracker = new Tracker(server);
      const p = pool({ baseURL: url, size: N });
      const all = Array.from({ length: 4 * N }, (_, i) => p.get(`/${i}`));
      expect(p.stats().totals.queued, 'queued right after the calls').to.equal(3 * N);
      const res = await Promise.all(all);
      expect(res.map((r) => r.text())).to.deep.equal(Array.from({ length: 4 * N }, (_, i) => `/${i}`));
      expect(batches).to.have.length(4);
      for (const b of batches) expect(new Set(b).size, 'one request per socket').to.equal(N);
      expect(tracker.connections).to.equal(N);
    });

    it('queued requests are sent in call order (FIFO)', async () => {
      const order: string[] = [];
      const { url } = await httpServer((req, res) => {
        order.push(req.url!);
        res.end('ok');
      });
      const p = pool({ baseURL: url, size: 1 });
      const all = ['/0', '/1', '/2', '/3', '/4'].map((path) => p.get(path));
      expect(p.stats().totals.queued).to.equal(4);
      await Promise.all(all);
      expect(order).to.deep.equal(['/0', '/1', '/2', '/3', '/4']);
    });
  });

  describe('request bytes', () => {
    /** Size-1 pool on a raw server that answers every request and records its heads. */
    async function capture(options: { headers?: Record<string, string> } = {}): Promise<{
      p: Pool;
      port: number;
      tracker: Tracker;
      requests: string[];
      /** The bytes received since the previous call. */
      take: () => string;
    }> {
      const requests: string[] = [];
      const { server, url, port } = await rawServer((socket, head) => {
        requests.push(head);
        socket.write(reply());
      });
      const tracker = new Tracker(server);
      const p = pool({ baseURL: url, size: 1, ...options });
      let seen = 0;
      const take = (): string => {
        const all = Buffer.concat([...tracker.chunks.values()].flat()).toString('latin1');
        const out = all.slice(seen);
        seen = all.length;
        return out;
      };
      return { p, port, tracker, requests, take };
    }

    it('writes the request line, Host with port, and nothing else for a plain GET', async () => {
      const { p, port, take } = await capture();
      await p.get('/a/b?c=d&e');
      expect(take()).to.equal(`GET /a/b?c=d&e HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`);
    });

    it('joins the baseURL path', async () => {
      const requests: string[] = [];
      const { url } = await rawServer((socket, head) => {
        requests.push(head);
        socket.write(reply());
      });
      const p = pool({ baseURL: url + '/v1/', size: 1 });
      await p.get('users');
      await p.get('/items?x=1');
      expect(requests.map((h) => h.split('\r\n')[0])).to.deep.equal(['GET /v1/users HTTP/1.1', 'GET /v1/items?x=1 HTTP/1.1']);
    });

    it('sends default headers, and a per-request header replaces the default of the same name', async () => {
      const { p, port, take } = await capture({ headers: { 'User-Agent': 'pool/1', 'x-team': 'core' } });
      await p.get('/d');
      expect(take()).to.equal(`GET /d HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nUser-Agent: pool/1\r\nx-team: core\r\n\r\n`);
      await p.get('/r', { headers: { 'user-agent': 'mine', 'x-extra': ['1', '2'], 'x-n': 7 } });
      expect(take()).to.equal(
        `GET /r HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nx-team: core\r\nuser-agent: mine\r\nx-extra: 1\r\nx-extra: 2\r\nx-n: 7\r\n\r\n`,
      );
      // The defaults are untouched for later requests.
      await p.get('/d');
      expect(take()).to.equal(`GET /d HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nUser-Agent: pool/1\r\nx-team: core\r\n\r\n`);
    });

    it('sends bodies with Content-Length: strings (UTF-8), Buffers and Uint8Array views as they are', async () => {
      const { p, port, take } = await capture();
      const host = `host: 127.0.0.1:${port}\r\n`;
      await p.post('/s', 'héllo');
      expect(Buffer.from(take(), 'latin1').equals(Buffer.from(`POST /s HTTP/1.1\r\n${host}content-length: 6\r\n\r\nhéllo`))).to.equal(true);
      await p.post('/b', Buffer.from([0, 1, 2, 255]));
      expect(take()).to.equal(`POST /b HTTP/1.1\r\n${host}content-length: 4\r\n\r\n\x00\x01\x02\xff`);
      // A view into a larger buffer: only its own bytes.
      const view = new Uint8Array([9, 65, 66, 67, 9]).subarray(1, 4);
      await p.request({ method: 'PUT', path: '/u', body: view });
      expect(take()).to.equal(`PUT /u HTTP/1.1\r\n${host}content-length: 3\r\n\r\nABC`);
    });

    it('sends plain objects and arrays as JSON with content-type, unless the caller set one', async () => {
      const { p, port, take } = await capture();
      const host = `host: 127.0.0.1:${port}\r\n`;
      await p.post('/j', { a: 1, b: 'é' });
      const json = '{"a":1,"b":"é"}';
      expect(Buffer.from(take(), 'latin1').toString('utf8')).to.equal(
        `POST /j HTTP/1.1\r\n${host}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
      );
      await p.post('/arr', [1, 2], { headers: { 'Content-Type': 'application/vnd+json' } });
      expect(take()).to.equal(`POST /arr HTTP/1.1\r\n${host}Content-Type: application/vnd+json\r\ncontent-length: 5\r\n\r\n[1,2]`);
    });

    it('sends content-length: 0 for POST, PUT and PATCH without a body, and none for GET/DELETE', async () => {
      const { p, port, take } = await capture();
      const host = `host: 127.0.0.1:${port}\r\n`;
      await p.post('/p');
      expect(take()).to.equal(`POST /p HTTP/1.1\r\n${host}content-length: 0\r\n\r\n`);
      await p.request({ method: 'PATCH', path: '/q', body: null });
      expect(take()).to.equal(`PATCH /q HTTP/1.1\r\n${host}content-length: 0\r\n\r\n`);
      await p.request({ method: 'DELETE', path: '/r' });
      expect(take()).to.equal(`DELETE /r HTTP/1.1\r\n${host}\r\n`);
    });

    it('writes head and a small body in one write: the server gets one chunk per request', async () => {
      const { p, tracker } = await capture();
      await p.ready();
      const chunks = tracker.chunks.get(tracker.sockets[0]!)!;
      await p.get('/one');
      await p.post('/two', 'x'.repeat(1000));
      await p.post('/three', { k: 'v'.repeat(2000) }, { headers: { 'x-a': 'b' } });
      expect(chunks).to.have.length(3);
      expect(chunks[1]!.toString('latin1')).to.match(/^POST \/two HTTP\/1\.1\r\n[\s\S]*\r\n\r\nx{1000}$/);
      expect(chunks[2]!.toString('latin1').endsWith('"}')).to.equal(true);
    });

    it('refuses invalid calls with InvalidArgumentError and writes nothing', async () => {
      const { p, tracker, requests } = await capture();
      await p.ready();
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      const bad: [string, () => Promise<unknown>][] = [
        ['method with space', () => p.request({ method: 'GE T', path: '/' })],
        ['method with CRLF', () => p.request({ method: 'GET\r\n', path: '/' })],
        ['empty method', () => p.request({ method: '', path: '/' })],
        ['path with CRLF', () => p.get('/a\r\nx-injected: 1')],
        ['path with LF', () => p.get('/a\nb')],
        ['path with space', () => p.get('/a b')],
        ['path with NUL', () => p.get('/a\0')],
        ['header name with space', () => p.get('/', { headers: { 'x y': '1' } })],
        ['header name with colon', () => p.get('/', { headers: { 'x:y': '1' } })],
        ['header value with CRLF', () => p.get('/', { headers: { 'x-a': 'v\r\nx-injected: 1' } })],
        ['header value with LF', () => p.get('/', { headers: { 'x-a': 'v\nw' } })],
        ['header value with NUL', () => p.get('/', { headers: { 'x-a': 'v\0' } })],
        ['header array value with CR', () => p.get('/', { headers: { 'x-a': ['ok', 'v\r'] } })],
        ['BigInt in JSON body', () => p.post('/', { n: 1n } as unknown as Record<string, unknown>)],
        ['circular JSON body', () => p.post('/', circular)],
        ['HEAD with a body', () => p.request({ method: 'HEAD', path: '/', body: 'x' })],
        ['body of a class instance', () => p.post('/', new Date() as unknown as Record<string, unknown>)],
      ];
      for (const [name, call] of bad) {
        const err = await rejects(call(), InvalidArgumentError, 'HCP_INVALID_ARGUMENT').catch((e: Error) => {
          throw new Error(`${name}: ${e.message}`);
        });
        expect(err.phase, name).to.equal('call');
      }
      // The same socket then carries a valid request, and it is the only thing the server got.
      await p.get('/valid');
      expect(requests.map(pathOf)).to.deep.equal(['/valid']);
      expect(tracker.connections).to.equal(1);
      expect(tracker.chunks.get(tracker.sockets[0]!)!).to.have.length(1);
    });

    it('a relative path without baseURL is an InvalidArgumentError', async () => {
      const p = pool({ size: 1 });
      const err = await rejects(p.get('/relative'), InvalidArgumentError, 'HCP_INVALID_ARGUMENT');
      expect(err.phase).to.equal('call');
      await rejects(p.get('relative'), InvalidArgumentError, 'HCP_INVALID_ARGUMENT');
      expect(p.stats().origins).to.have.length(0);
    });

    it('an invalid call to a new origin dials nothing', async () => {
      const { server, url } = await httpServer((_req, res) => res.end('ok'));
      const tracker = new Tracker(server);
      const p = pool({ size: 2 });
      await rejects(p.get(url + '/', { headers: { 'x-a': 'v\r\n' } }), InvalidArgumentError, 'HCP_INVALID_ARGUMENT');
      // Without the fix the origin's sockets would be 'connecting' here.
      expect(p.stats().origins.flatMap((o) => o.sockets.map((s) => s.state))).to.satisfy((states: string[]) => states.every((st) => st === 'dead'));
      expect(tracker.connections).to.equal(0);
      await p.get(url + '/');
      expect(p.stats().totals.connected).to.be.at.least(1);
    });

    it('RequestEncoder serialises a plain GET head once per path', () => {
      const enc = new RequestEncoder('h:1', { 'x-d': '1' });
      const out = (): Encoded => ({ head: Buffer.alloc(0), body: null, closeAfter: false });
      const a = out();
      const b = out();
      enc.encode(a, 'GET', '/p', undefined, undefined);
      enc.encode(b, 'GET', '/p', undefined, null);
      expect(a.head.toString('latin1')).to.equal('GET /p HTTP/1.1\r\nhost: h:1\r\nx-d: 1\r\n\r\n');
      expect(b.head).to.equal(a.head); // the very same Buffer
      const other = out();
      enc.encode(other, 'GET', '/q', undefined, undefined);
      expect(other.head).to.not.equal(a.head);
      // With per-request headers a head is built each time.
      const h1 = out();
      const h2 = out();
      enc.encode(h1, 'GET', '/p', { 'x-r': '2' }, undefined);
      enc.encode(h2, 'GET', '/p', { 'x-r': '2' }, undefined);
      expect(h1.head.equals(h2.head)).to.equal(true);
      expect(h1.head).to.not.equal(h2.head);
      expect(h1.head).to.not.equal(a.head);
      // Other methods are not cached either.
      const d1 = out();
      const d2 = out();
      enc.encode(d1, 'DELETE', '/p', undefined, undefined);
      enc.encode(d2, 'DELETE', '/p', undefined, undefined);
      expect(d1.head).to.not.equal(d2.head);
      // And a cached GET path is still validated the first time.
      expect(() => enc.encode(out(), 'GET', '/a b', undefined, undefined)).to.throw(InvalidArgumentError);
      expect(() => enc.encode(out(), 'GET', '/a b', undefined, undefined)).to.throw(InvalidArgumentError);
    });
  });

  describe('keep-alive, stale sockets and retries', () => {
    it('reuses one socket for sequential requests', async () => {
      const { url, tracker } = await portEchoServer();
      const p = pool({ baseURL: url, size: 1 });
      const ports = [await portOf(p, '/'), await portOf(p, '/'), await portOf(p, '/')];
      expect(new Set(ports).size).to.equal(1);
      expect(tracker.connections).to.equal(1);
    });

    it('a socket the server closed while idle is re-dialed on next use, without an error', async () => {
      const seen: string[] = [];
      const { server, url } = await rawServer((socket, head, index) => {
        seen.push(`${pathOf(head)}#${index}`);
        // Keep-alive response (no Connection: close), then the server closes the idle socket.
        socket.end(reply('ok'));
      });
      const tracker = new Tracker(server);
      const p = pool({ baseURL: url, size: 1 });
      expect((await p.get('/1')).statusCode).to.equal(200);
      // The server's socket closes fully only after the client closed its side too,
      // i.e. after the client saw the server's FIN.
      await tracker.until(() => tracker.closed === 1);
      expect(p.stats().origins[0]!.sockets[0]!.state).to.equal('dead');
      expect((await p.get('/2')).statusCode).to.equal(200);
      expect(seen).to.deep.equal(['/1#0', '/2#0']);
      expect(tracker.connections).to.equal(2);
      expect(p.stats().origins[0]!.sockets[0]).to.include({ errors: 0, reconnects: 1, requests: 2 });
    });

    it('node:http closing idle sockets (keepAliveTimeout) causes no error', async () => {
      const server = http.createServer({ keepAliveTimeout: 1 }, (_req, res) => res.end('ok'));
      const port = await listen(server);
      const tracker = new Tracker(server);
      const p = pool({ baseURL: originOf(port), size: 1 });
      for (let i = 0; i < 3; i++) {
        expect((await p.get('/')).statusCode).to.equal(200);
      }
      expect(tracker.connections).to.be.greaterThan(1);
      expect(p.stats().totals.errors).to.equal(0);
    });

    for (const how of ['FIN', 'RST'] as const) {
      it(`retries a GET once on a fresh socket when a reused socket gets ${how} before any response byte`, async () => {
        const seen: string[] = [];
        const { server, url } = await rawServer((socket, head, index) => {
          seen.push(`${pathOf(head)}#${index}`);
          if (index > 0) {
            if (how === 'RST') socket.resetAndDestroy();
            else socket.destroy();
            return;
          }
          socket.write(reply(pathOf(head)));
        });
        const tracker = new Tracker(server);
        const p = pool({ baseURL: url, size: 1 });
        expect((await p.get('/warm')).text()).to.equal('/warm');
        const res = await p.get('/again');
        expect(res.statusCode).to.equal(200);
        expect(res.text()).to.equal('/again');
        // Sent twice: on the reused socket (index 1), then on a new one (index 0).
        expect(seen).to.deep.equal(['/warm#0', '/again#1', '/again#0']);
        expect(tracker.connections).to.equal(2);
      });
    }

    it('retries an idempotent PUT (with its body) the same way', async () => {
      const bodies: string[] = [];
      const { url } = await rawServer((socket, head, index) => {
        if (index > 0) return void socket.destroy();
        bodies.push(pathOf(head));
        socket.write(reply());
      });
      const p = pool({ baseURL: url, size: 1 });
      await p.get('/warm');
      expect((await p.request({ method: 'PUT', path: '/put', body: 'data' })).statusCode).to.equal(200);
      expect(bodies).to.deep.equal(['/warm', '/put']);
    });

    it('does not retry a POST written to a reused socket: SocketError', async () => {
      const seen: string[] = [];
      const { url, port } = await rawServer((socket, head, index) => {
        seen.push(`${pathOf(head)}#${index}`);
        if (pathOf(head) === '/post') return void socket.destroy();
        socket.write(reply());
      });
      const p = pool({ baseURL: url, size: 1 });
      await p.get('/warm');
      const err = await rejects(p.post('/post', { a: 1 }), SocketError, 'HCP_SOCKET');
      expectContext(err, originOf(port), 0, 'headers');
      // The next request is the next thing the server sees: the POST was not resent.
      await p.get('/after');
      expect(seen).to.deep.equal(['/warm#0', '/post#1', '/after#0']);
    });

    it('does not retry a request that failed on a fresh socket', async () => {
      const seen: string[] = [];
      const { url, port } = await rawServer((socket, head, index) => {
        seen.push(`${pathOf(head)}#${index}`);
        if (pathOf(head) === '/fail') return void socket.resetAndDestroy();
        socket.write(reply());
      });
      const p = pool({ baseURL: url, size: 1 });
      const err = await rejects(p.get('/fail'), SocketError, 'HCP_SOCKET');
      expectContext(err, originOf(port), 0, 'headers');
      await p.get('/after');
      expect(seen).to.deep.equal(['/fail#0', '/after#0']);
    });

    it('retries only once: when the fresh socket fails too, the request rejects', async () => {
      const seen: string[] = [];
      const { url, port } = await rawServer((socket, head, index) => {
        seen.push(`${pathOf(head)}#${index}`);
        if (pathOf(head) === '/fail') return void socket.destroy();
        socket.write(reply());
      });
      const p = pool({ baseURL: url, size: 1 });
      await p.get('/warm');
      const err = await rejects(p.get('/fail'), SocketError, 'HCP_SOCKET');
      expectContext(err, originOf(port), 0, 'headers');
      await p.get('/after');
      expect(seen).to.deep.equal(['/warm#0', '/fail#1', '/fail#0', '/after#0']);
    });

    it('never retries after a response byte arrived', async () => {
      const seen: string[] = [];
      const { url, port } = await rawServer((socket, head, index) => {
        seen.push(`${pathOf(head)}#${index}`);
        if (pathOf(head) === '/partial') {
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
          socket.resetAndDestroy();
          return;
        }
        socket.write(reply());
      });
      const p = pool({ baseURL: url, size: 1 });
      await p.get('/warm');
      // Depending on whether the RST overtakes the data, the client sees EOF or a reset
      // mid-body; either way it must reject, not resend.
      const err = await rejects(p.get('/partial'), HttpClientPoolError);
      expect(err.code).to.equal('HCP_SOCKET');
      expectContext(err, originOf(port), 0, 'body');
      await p.get('/after');
      expect(seen).to.deep.equal(['/warm#0', '/partial#1', '/after#0']);
    });

    it('a body cut short by EOF is a SocketError', async () => {
      const { url, port } = await rawServer((socket) => {
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
      });
      const p = pool({ baseURL: url, size: 1 });
      const err = await rejects(p.get('/'), SocketError, 'HCP_SOCKET');
      expectContext(err, originOf(port), 0, 'body');
      expect(err).to.not.be.instanceOf(ParseError);
    });

    it("an error inside the response head reports phase 'headers'", async () => {
      const { url, port } = await rawServer((socket, head) => {
        if (pathOf(head) === '/garbage') socket.write('NOT HTTP\r\n\r\n');
        else socket.end('HTTP/1.1 200 OK\r\ncontent-le');
      });
      const p = pool({ baseURL: url, size: 1 });
      const e1 = await rejects(p.get('/garbage'), ParseError, 'HCP_PARSE');
      expectContext(e1, originOf(port), 0, 'headers');
      const e2 = await rejects(p.get('/cut'), HttpClientPoolError);
      expect(e2.code).to.equal('HCP_SOCKET');
      expectContext(e2, originOf(port), 0, 'headers');
    });
  });

  describe('errors', () => {
    it('rejections carry code, origin, socketId and phase', async () => {
      const { url, port } = await rawServer((socket, head) => {
        if (pathOf(head) === '/reset') return void socket.resetAndDestroy();
        if (pathOf(head) === '/garbage') return void socket.write('NOT HTTP\r\n\r\n');
        socket.write(reply());
      });
      const p = pool({ baseURL: url, size: 3 });
      await p.ready();
      const origin = originOf(port);
      // Request 0 -> slot 0, 1 -> slot 1, 2 -> slot 2.
      const e0 = await rejects(p.get('/reset'), SocketError, 'HCP_SOCKET');
      expectContext(e0, origin, 0, 'headers');
      expect((e0.cause as NodeJS.ErrnoException | undefined)?.code).to.equal('ECONNRESET');
      const e1 = await rejects(p.get('/garbage'), ParseError, 'HCP_PARSE');
      expect([e1.origin, e1.socketId]).to.deep.equal([origin, 1]);
      expect(e1.phase).to.equal('headers');
      expect(e1.parserCode).to.match(/^HPE_/);
      expect((await p.get('/ok')).statusCode).to.equal(200);
      const e3 = await rejects(p.get('/x', { headers: { 'bad name': '1' } }), InvalidArgumentError, 'HCP_INVALID_ARGUMENT');
      expect(e3.phase).to.equal('call');
    });
  });
});
