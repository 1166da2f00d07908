// Both backends against real loopback servers: dialing, round-robin and the wait
// queue, what a request carries (line, headers, body), keep-alive, stale sockets and
// retries, and the context every rejection carries. The exact bytes Pool writes are
// checked in test/pool-only/request-bytes.test.ts.
import * as http from 'node:http';
import { expect } from 'chai';
import {
  ConnectError,
  HttpClientPoolError,
  InvalidArgumentError,
  ParseError,
  SocketError,
  type Client,
} from '../../dist/index.js';
import { cleanup, freePort, httpServer, listen, pathOf, rawServer, rejects, reply, Tracker, turns, until, watchUnhandled } from '../helpers.js';
import { BACKENDS, supports } from './backends.js';

// ---- local helpers



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

async function portOf(p: Client, path: string): Promise<number> {
  const res = await p.get(path);
  expect(res.statusCode).to.equal(200);
  return Number(res.text());
}

/** One request as a node:http server parsed it. */
interface Seen {
  method: string;
  url: string;
  /** Header fields as sent (name case kept), without `connection` (see 'exact-request-bytes'), stably sorted by lower-case name. */
  fields: string[];
  body: Buffer;
}

/** A node:http server that records every request (head fields and body) and answers 200. */
async function httpRecorder(): Promise<{ url: string; port: number; seen: Seen[]; tracker: Tracker }> {
  const seen: Seen[] = [];
  const { server, url } = await httpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fields: [string, string][] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        if (req.rawHeaders[i]!.toLowerCase() !== 'connection') fields.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
      }
      // Array.prototype.sort is stable: repeated fields keep their order.
      fields.sort((a, b) => (a[0].toLowerCase() < b[0].toLowerCase() ? -1 : a[0].toLowerCase() > b[0].toLowerCase() ? 1 : 0));
      seen.push({ method: req.method!, url: req.url!, fields: fields.map(([n, v]) => `${n}: ${v}`), body: Buffer.concat(chunks) });
      res.end('ok');
    });
  });
  return { url, port: Number(new URL(url).port), seen, tracker: new Tracker(server) };
}

// ---- tests

for (const backend of BACKENDS) {
  describe(`${backend.name}: pool`, () => {
    afterEach(cleanup);

    describe('dialing', () => {
      it('opens `size` sockets to the baseURL origin at construction, before any request', async function () {
        if (!supports(backend, 'eager-dial')) this.skip(); // each agent dials on its first request
        const { server, url } = await httpServer((_req, res) => res.end('ok'));
        const tracker = new Tracker(server);
        const p = backend.pool({ baseURL: url, size: 5 });
        await tracker.until(() => tracker.connections === 5);
        expect(tracker.bytes, 'nothing written yet').to.equal(0);
        await p.ready();
        expect(p.stats().totals).to.include({ sockets: 5, connected: 5, requests: 0 });
      });

      it('uses at most `size` sockets: concurrent requests beyond it reuse them', async () => {
        const { server, url } = await httpServer((_req, res) => res.end('ok'));
        const tracker = new Tracker(server);
        const p = backend.pool({ baseURL: url, size: 5 });
        const all = await Promise.all(Array.from({ length: 10 }, () => p.get('/')));
        expect(all.map((r) => r.statusCode)).to.deep.equal(Array(10).fill(200));
        expect(tracker.connections).to.equal(5);
        await Promise.all(Array.from({ length: 10 }, () => p.get('/')));
        expect(tracker.connections, 'no sixth connection').to.equal(5);
        expect(p.stats().totals).to.include({ sockets: 5, connected: 5, requests: 20 });
      });

      it('without baseURL, an origin gets its own `size` slots on its first use; other origins are not dialed', async () => {
        const a = await portEchoServer();
        const b = await portEchoServer();
        const p = backend.pool({ size: 3 });
        expect(p.stats().origins, 'no origin before the first call').to.have.length(0);
        expect((await p.get(a.url + '/x')).statusCode).to.equal(200);
        expect(b.tracker.connections, 'the other origin is not dialed').to.equal(0);
        expect(p.stats().origins.map((o) => o.origin)).to.deep.equal([a.url]);
        expect(p.stats().origins[0]!.sockets).to.have.length(3);
        expect((await p.get(b.url + '/y')).statusCode).to.equal(200);
        // Concurrent traffic to both fills their slots: N connections per origin, 2N in all.
        await Promise.all(Array.from({ length: 6 }, (_, i) => p.get((i % 2 === 0 ? a.url : b.url) + '/z')));
        await Promise.all(Array.from({ length: 6 }, (_, i) => p.get((i % 2 === 0 ? a.url : b.url) + '/z')));
        expect([a.tracker.connections, b.tracker.connections]).to.deep.equal([3, 3]);
        const { origins, totals } = p.stats();
        expect(origins.map((o) => o.origin)).to.deep.equal([a.url, b.url]);
        expect(totals.sockets).to.equal(6);
        expect(totals.connected).to.equal(6);
      });

      it('without baseURL, the first use of an origin dials all its `size` sockets', async function () {
        if (!supports(backend, 'eager-dial')) this.skip(); // each agent dials on its first request
        const a = await portEchoServer();
        const p = backend.pool({ size: 3 });
        expect((await p.get(a.url + '/x')).statusCode).to.equal(200);
        await a.tracker.until(() => a.tracker.connections === 3);
      });

      it('an absolute URL to another origin gets its own sockets alongside the baseURL ones', async () => {
        const a = await portEchoServer();
        const b = await portEchoServer();
        const p = backend.pool({ baseURL: a.url, size: 2 });
        await Promise.all([p.get('/rel'), p.get('/rel')]);
        expect(await Promise.all([p.get(b.url + '/abs'), p.get(b.url + '/abs')]).then((r) => r.map((x) => x.statusCode))).to.deep.equal([200, 200]);
        await Promise.all([p.get('/rel'), p.get('/rel'), p.get(b.url + '/abs'), p.get(b.url + '/abs')]);
        expect([a.tracker.connections, b.tracker.connections]).to.deep.equal([2, 2]);
        expect(p.stats().origins.map((o) => o.origin)).to.deep.equal([a.url, b.url]);
      });

      it('a failed dial without any request is not an unhandled error', async function () {
        if (!supports(backend, 'eager-dial')) this.skip(); // nothing is dialed without a request
        const port = await freePort();
        const unhandled = watchUnhandled();
        const p = backend.pool({ baseURL: originOf(port), size: 3 });
        // No event tells when the eager dials failed; stats() does. Poll it once per loop turn
        // (bounded, so that a broken pool fails this test instead of spinning forever).
        await until(
          () => p.stats().origins[0]!.sockets.every((s) => s.state === 'dead' && s.errors === 1),
          () => `dials did not all fail: ${JSON.stringify(p.stats().origins[0]!.sockets)}`,
          5000,
        );
        // Let unhandled-rejection detection (after microtasks) and a few more turns run.
        await turns(5);
        expect(unhandled).to.deep.equal([]);
      });

      it('rejects with ConnectError (ECONNREFUSED) after the request was tried on every slot', async () => {
        const port = await freePort();
        const p = backend.pool({ baseURL: originOf(port), size: 3 });
        const err = await rejects(p.get('/'), ConnectError, 'HCP_CONNECT');
        // It moved 0 -> 1 -> 2 and failed with the last slot's error.
        expectContext(err, originOf(port), 2, 'dial');
        expect((err.cause as NodeJS.ErrnoException).code).to.equal('ECONNREFUSED');
        const sockets = p.stats().origins[0]!.sockets;
        expect(sockets.map((s) => s.state)).to.deep.equal(['dead', 'dead', 'dead']);
        expect(sockets.every((s) => s.errors >= 1)).to.equal(true);
        // No socket ever connected: every dial failed, and none is a reconnect.
        expect(sockets.map((s) => s.reconnects)).to.deep.equal([0, 0, 0]);
        expect(sockets.every((s) => s.failedDials >= 1), JSON.stringify(sockets)).to.equal(true);
        expect(p.stats().totals.failedDials).to.equal(sockets.reduce((n, s) => n + s.failedDials, 0));
      });

      it('a request whose slot cannot connect moves to the next slot and succeeds there', async () => {
        const portsSeen: string[] = [];
        const { server, url } = await rawServer((socket, head) => {
          portsSeen.push(`${pathOf(head)}@${socket.remotePort}`);
          if (pathOf(head) === '/bye') socket.end(reply('bye', 'connection: close\r\n'));
          else socket.write(reply(String(socket.remotePort)));
        });
        const tracker = new Tracker(server);
        const p = backend.pool({ baseURL: url, size: 2 });
        // Both slots connected; the round-robin cursor is back on slot 0.
        await Promise.all([p.get('/w0'), p.get('/w1')]);
        expect(tracker.connections).to.equal(2);
        // Slot 0 serves /bye and its socket is closed; the server then stops accepting.
        expect((await p.get('/bye')).statusCode).to.equal(200);
        await tracker.until(() => tracker.closed === 1);
        server.close(); // stops listening at once; slot 1's connection stays open
        // Slot 1 still has its socket.
        const viaSlot1 = await p.get('/b');
        // Round-robin gives slot 0, whose re-dial is refused: the request moves to slot 1.
        const moved = await p.get('/c');
        expect(moved.statusCode).to.equal(200);
        expect(moved.text()).to.equal(viaSlot1.text());
        expect(portsSeen.map((s) => s.split('@')[0]).slice(2)).to.deep.equal(['/bye', '/b', '/c']);
        const [s0, s1] = p.stats().origins[0]!.sockets;
        // The refused re-dial is a failed dial, not a reconnect.
        expect(s0).to.include({ state: 'dead', reconnects: 0, failedDials: 1, errors: 1, requests: 2 });
        expect(s1).to.include({ state: 'idle', reconnects: 0, failedDials: 0, errors: 0, requests: 3 });
      });

      it('a dead slot re-dials when next chosen: a server started later is reached', async () => {
        for (let attempt = 0; ; attempt++) {
          const port = await freePort();
          const p = backend.pool({ baseURL: originOf(port), size: 1 });
          const err = await rejects(p.get('/'), ConnectError, 'HCP_CONNECT');
          expectContext(err, originOf(port), 0, 'dial');
          const server = http.createServer((_req, res) => res.end('up'));
          try {
            await listen(server, port);
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
        let connections = 0;
        const { url, server } = await httpServer((_req, res) => res.end('ok'));
        server.on('connection', () => connections++);
        const p = backend.pool({ baseURL: url, size: 4 });
        await p.ready();
        const sockets = p.stats().origins[0]!.sockets;
        expect(sockets.map((s) => s.state)).to.deep.equal(['idle', 'idle', 'idle', 'idle']);
        expect(new Set(sockets.map((s) => s.localPort)).size).to.equal(4);
        // The requests that follow go out on those sockets: none is dialed again.
        const answers = await Promise.all([p.get('/'), p.get('/'), p.get('/'), p.get('/')]);
        expect(answers.map((r) => r.statusCode)).to.deep.equal([200, 200, 200, 200]);
        expect(connections).to.equal(4);
        await p.ready(); // connected: at once

        const port = await freePort();
        const dead = backend.pool({ baseURL: originOf(port), size: 2 });
        const err = await rejects(dead.ready(), ConnectError, 'HCP_CONNECT');
        expect(err.origin).to.equal(originOf(port));
        expect(err.phase).to.equal('dial');
        expect(err.socketId).to.be.oneOf([0, 1]);
      });
    });

    describe('round-robin and queue', () => {
      it('with concurrency 1, request k goes to socket k mod N', async () => {
        const { url, tracker } = await portEchoServer();
        const p = backend.pool({ baseURL: url, size: 4 });
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

      it('below half the sockets in use, a request the server holds costs only its own socket turns: the others share the rest evenly', async () => {
        // One request outlives many laps; the cursor meets its busy socket each lap and
        // must go on to the next free one, not to whichever socket answered last.
        let arrived!: (res: http.ServerResponse) => void;
        const holding = new Promise<http.ServerResponse>((resolve) => (arrived = resolve));
        const { url } = await httpServer((req, res) => {
          if (req.url === '/hold') arrived(res);
          else res.end('ok');
        });
        const p = backend.pool({ baseURL: url, size: 8 });
        await p.ready();
        const held = p.get('/hold');
        const heldRes = await holding;
        const n = 70;
        let started = 0;
        const worker = async (): Promise<void> => {
          while (started < n) {
            started++;
            await p.get('/');
          }
        };
        await Promise.all([worker(), worker(), worker()]);
        heldRes.end('held');
        expect((await held).text()).to.equal('held');
        // 10 each on a quiet machine; an answer that comes late by a few others' costs its
        // socket a turn, which the next one takes. Handing turns to the socket that answered
        // last gave four of them 1 each.
        const [first, ...others] = p.stats().origins[0]!.sockets.map((s) => s.requests);
        expect(first, 'the socket of the held request').to.equal(1);
        for (const c of others) expect(c, `requests per other socket (${others.join(', ')})`).to.be.within(8, 12);
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
        const p = backend.pool({ baseURL: url, size: N });
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
        const p = backend.pool({ baseURL: url, size: 1 });
        const all = ['/0', '/1', '/2', '/3', '/4'].map((path) => p.get(path));
        expect(p.stats().totals.queued).to.equal(4);
        await Promise.all(all);
        expect(order).to.deep.equal(['/0', '/1', '/2', '/3', '/4']);
      });
    });

    describe('what a request carries', () => {
      it('the request line and Host with port', async () => {
        const { url, port, seen } = await httpRecorder();
        const p = backend.pool({ baseURL: url, size: 1 });
        await p.get('/a/b?c=d&e');
        expect(seen).to.have.length(1);
        expect([seen[0]!.method, seen[0]!.url]).to.deep.equal(['GET', '/a/b?c=d&e']);
        expect(seen[0]!.fields).to.deep.equal([`host: 127.0.0.1:${port}`]);
        expect(seen[0]!.body.length).to.equal(0);
      });

      it('joins the baseURL path', async () => {
        const { url, seen } = await httpRecorder();
        const p = backend.pool({ baseURL: url + '/v1/', size: 1 });
        await p.get('users');
        await p.get('/items?x=1');
        expect(seen.map((s) => s.url)).to.deep.equal(['/v1/users', '/v1/items?x=1']);
      });

      it('sends default headers, and a per-request header replaces the default of the same name', async () => {
        const { url, port, seen } = await httpRecorder();
        const host = `host: 127.0.0.1:${port}`;
        const p = backend.pool({ baseURL: url, size: 1, headers: { 'User-Agent': 'pool/1', 'x-team': 'core' } });
        await p.get('/d');
        await p.get('/r', { headers: { 'user-agent': 'mine', 'x-extra': ['1', '2'], 'x-n': 7 } });
        // The defaults are untouched for later requests.
        await p.get('/d');
        expect(seen.map((s) => s.fields)).to.deep.equal([
          [host, 'User-Agent: pool/1', 'x-team: core'],
          [host, 'user-agent: mine', 'x-extra: 1', 'x-extra: 2', 'x-n: 7', 'x-team: core'],
          [host, 'User-Agent: pool/1', 'x-team: core'],
        ]);
      });

      it('writes a list value as one line per item, Cookie too, and a plain call the same after one with its own headers', async () => {
        const { url, port, seen } = await httpRecorder();
        const host = `host: 127.0.0.1:${port}`;
        const p = backend.pool({ baseURL: url, size: 1, headers: { 'x-team': 'core' } });
        await p.get('/c', { headers: { cookie: ['a=1', 'b=2'] } });
        await p.get('/d');
        await p.get('/d');
        expect(seen.map((s) => s.fields)).to.deep.equal([
          ['cookie: a=1', 'cookie: b=2', host, 'x-team: core'],
          [host, 'x-team: core'],
          [host, 'x-team: core'],
        ]);
      });

      it('sends bodies with Content-Length: strings (UTF-8), Buffers and Uint8Array views as they are', async () => {
        const { url, port, seen } = await httpRecorder();
        const host = `host: 127.0.0.1:${port}`;
        const p = backend.pool({ baseURL: url, size: 1 });
        await p.post('/s', 'héllo');
        await p.post('/b', Buffer.from([0, 1, 2, 255]));
        // A view into a larger buffer: only its own bytes.
        const view = new Uint8Array([9, 65, 66, 67, 9]).subarray(1, 4);
        await p.request({ method: 'PUT', path: '/u', body: view });
        expect(seen.map((s) => [s.method, s.url, s.fields])).to.deep.equal([
          ['POST', '/s', ['content-length: 6', host]],
          ['POST', '/b', ['content-length: 4', host]],
          ['PUT', '/u', ['content-length: 3', host]],
        ]);
        expect(seen[0]!.body.equals(Buffer.from('héllo'))).to.equal(true);
        expect(seen[1]!.body.equals(Buffer.from([0, 1, 2, 255]))).to.equal(true);
        expect(seen[2]!.body.toString('latin1')).to.equal('ABC');
      });

      it('sends plain objects and arrays as JSON with content-type, unless the caller set one', async () => {
        const { url, port, seen } = await httpRecorder();
        const host = `host: 127.0.0.1:${port}`;
        const p = backend.pool({ baseURL: url, size: 1 });
        await p.post('/j', { a: 1, b: 'é' });
        await p.post('/arr', [1, 2], { headers: { 'Content-Type': 'application/vnd+json' } });
        const json = '{"a":1,"b":"é"}';
        expect(seen.map((s) => s.fields)).to.deep.equal([
          [`content-length: ${Buffer.byteLength(json)}`, 'content-type: application/json', host],
          ['content-length: 5', 'Content-Type: application/vnd+json', host],
        ]);
        expect(seen.map((s) => s.body.toString('utf8'))).to.deep.equal([json, '[1,2]']);
      });

      it('sends content-length: 0 for POST, PUT and PATCH without a body, and none for GET/DELETE', async () => {
        const { url, port, seen } = await httpRecorder();
        const host = `host: 127.0.0.1:${port}`;
        const p = backend.pool({ baseURL: url, size: 1 });
        await p.post('/p');
        await p.request({ method: 'PATCH', path: '/q', body: null });
        await p.request({ method: 'PUT', path: '/t' });
        await p.request({ method: 'DELETE', path: '/r' });
        await p.get('/g');
        expect(seen.map((s) => [s.method, s.fields])).to.deep.equal([
          ['POST', ['content-length: 0', host]],
          ['PATCH', ['content-length: 0', host]],
          ['PUT', ['content-length: 0', host]],
          ['DELETE', [host]],
          ['GET', [host]],
        ]);
      });

      it('a caller\'s content-length is sent once when it matches the body, and refused when it does not', async () => {
        const { url, port, seen } = await httpRecorder();
        const p = backend.pool({ baseURL: url, size: 1 });
        await p.post('/c', 'abc', { headers: { 'Content-Length': '3' } });
        expect(seen[0]!.fields.filter((f) => /^content-length:/i.test(f))).to.have.length(1);
        expect(seen[0]!.fields).to.include(`host: 127.0.0.1:${port}`);
        expect(seen[0]!.body.toString()).to.equal('abc');
        await rejects(p.post('/c', 'abc', { headers: { 'content-length': '99' } }), InvalidArgumentError, 'HCP_INVALID_ARGUMENT');
        expect(seen).to.have.length(1);
      });

      it('refuses invalid calls with InvalidArgumentError and writes nothing', async () => {
        const requests: string[] = [];
        const { server, url } = await rawServer((socket, head) => {
          requests.push(head);
          socket.write(reply());
        });
        const tracker = new Tracker(server);
        const p = backend.pool({ baseURL: url, size: 1 });
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
        expect(p.stats().totals.inFlight).to.equal(0);
        expect(tracker.bytes, 'nothing written').to.equal(0);
        // The slot then carries a valid request, and it is the only thing the server got.
        await p.get('/valid');
        expect(requests.map(pathOf)).to.deep.equal(['/valid']);
        expect(tracker.connections).to.equal(1);
        expect(p.stats().totals).to.include({ requests: 1, errors: 0 });
      });

      it('a relative path without baseURL is an InvalidArgumentError', async () => {
        const p = backend.pool({ size: 1 });
        const err = await rejects(p.get('/relative'), InvalidArgumentError, 'HCP_INVALID_ARGUMENT');
        expect(err.phase).to.equal('call');
        await rejects(p.get('relative'), InvalidArgumentError, 'HCP_INVALID_ARGUMENT');
        expect(p.stats().origins).to.have.length(0);
      });

      it('an invalid call to a new origin dials nothing', async () => {
        const { server, url } = await httpServer((_req, res) => res.end('ok'));
        const tracker = new Tracker(server);
        const p = backend.pool({ size: 2 });
        await rejects(p.get(url + '/', { headers: { 'x-a': 'v\r\n' } }), InvalidArgumentError, 'HCP_INVALID_ARGUMENT');
        // A dialing slot would be 'connecting' here.
        expect(p.stats().origins.flatMap((o) => o.sockets.map((s) => s.state))).to.satisfy((states: string[]) => states.every((st) => st === 'dead'));
        await turns(5);
        expect(tracker.connections).to.equal(0);
        await p.get(url + '/');
        expect(p.stats().totals.connected).to.be.at.least(1);
      });
    });

    describe('keep-alive, stale sockets and retries', () => {
      it('reuses one socket for sequential requests', async () => {
        const { url, tracker } = await portEchoServer();
        const p = backend.pool({ baseURL: url, size: 1 });
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
        const p = backend.pool({ baseURL: url, size: 1 });
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
        const p = backend.pool({ baseURL: originOf(port), size: 1 });
        for (let i = 0; i < 3; i++) {
          expect((await p.get('/')).statusCode).to.equal(200);
          // Wait for the server to close the idle socket (its 1 ms timer), then request again.
          await tracker.until(() => tracker.closed === i + 1);
        }
        expect(tracker.connections).to.equal(3);
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
          const p = backend.pool({ baseURL: url, size: 1 });
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
        const p = backend.pool({ baseURL: url, size: 1 });
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
        const p = backend.pool({ baseURL: url, size: 1 });
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
        const p = backend.pool({ baseURL: url, size: 1 });
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
        const p = backend.pool({ baseURL: url, size: 1 });
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
        const p = backend.pool({ baseURL: url, size: 1 });
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
        const p = backend.pool({ baseURL: url, size: 1 });
        const err = await rejects(p.get('/'), SocketError, 'HCP_SOCKET');
        expectContext(err, originOf(port), 0, 'body');
        expect(err).to.not.be.instanceOf(ParseError);
      });

      it("an error inside the response head reports phase 'headers'", async () => {
        const { url, port } = await rawServer((socket, head) => {
          if (pathOf(head) === '/garbage') socket.write('NOT HTTP\r\n\r\n');
          else socket.end('HTTP/1.1 200 OK\r\ncontent-le');
        });
        const p = backend.pool({ baseURL: url, size: 1 });
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
        const p = backend.pool({ baseURL: url, size: 3 });
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
        expect(p.stats().origins[0]!.sockets.map((s) => s.errors)).to.deep.equal([1, 1, 0]);
      });
    });
  });
}
