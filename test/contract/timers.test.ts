// Every timer of a client, for each backend, against a loopback server that stalls at
// that phase: dial, TLS, response head, whole request, idle and the Keep-Alive hint;
// then how requests use the one shared clock. The clock on its own is tested in
// test/unit/clock.test.ts.
import * as net from 'node:net';
import { expect } from 'chai';
import {
  BodyTimeoutError,
  ConnectError,
  ConnectTimeoutError,
  HeadersTimeoutError,
  RequestTimeoutError,
  TLSTimeoutError,
  defaults,
} from '../../dist/index.js';
import { armedCount } from '../../dist/conn/timers.js';
import { blackhole, cleanup, defer, freePort, listen, once, rawServer, rejects, reply, serverConnections, turns, until, watchUnhandled } from '../helpers.js';
import { BACKENDS, supports } from './backends.js';

// ---- helpers of this file


/** Writes `data` one byte every `everyMs` until done or the socket closes. */
function trickle(socket: net.Socket, data: string, everyMs: number): void {
  let i = 0;
  const t = setInterval(() => {
    if (socket.destroyed || i >= data.length) return clearInterval(t);
    socket.write(data[i++]!);
  }, everyMs);
  socket.once('close', () => clearInterval(t));
  defer(() => clearInterval(t));
}



/** Spins the CPU for `ms`: makes every deadline below it due in one wake-up of the clock. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}



for (const backend of BACKENDS) {
  // ---- dial and TLS

  describe(`${backend.name}: timers: dial`, function () {
    this.timeout(3000);
    afterEach(cleanup);

    it('a connect that never completes rejects the waiting request with ConnectTimeoutError', async () => {
      const port = await blackhole();
      const p = backend.pool({ baseURL: `http://127.0.0.1:${port}`, size: 1, dialTimeout: 100 });
      const err = await rejects(p.get('/x'), ConnectTimeoutError, 'HCP_CONNECT_TIMEOUT');
      expect(err.phase).to.equal('dial');
      expect(err.socketId).to.equal(0);
      expect(err.origin).to.equal(`http://127.0.0.1:${port}`);
    });

    it('a connect that never completes rejects ready() with ConnectTimeoutError', async function () {
      if (!supports(backend, 'eager-dial')) this.skip(); // nothing is dialed before a request
      const port = await blackhole();
      const p = backend.pool({ baseURL: `http://127.0.0.1:${port}`, size: 1, dialTimeout: 100 });
      const err = await rejects(p.ready(), ConnectTimeoutError, 'HCP_CONNECT_TIMEOUT');
      expect(err.phase).to.equal('dial');
    });

    it('with several slots, the request fails only after every slot failed its dial', async () => {
      const port = await blackhole();
      const p = backend.pool({ baseURL: `http://127.0.0.1:${port}`, size: 3, dialTimeout: 100 });
      const err = await rejects(p.get('/x'), ConnectTimeoutError, 'HCP_CONNECT_TIMEOUT');
      expect(err.phase).to.equal('dial');
      expect(err.socketId).to.be.oneOf([0, 1, 2]);
      const sockets = p.stats().origins[0]!.sockets;
      // Every slot tried, and failed, before the request was given up.
      expect(sockets.map((s) => s.errors >= 1)).to.deep.equal([true, true, true]);
      expect(p.stats().totals.errors).to.be.at.least(3);
    });

    it('a dial that times out with no request waiting is not an unhandled error', async function () {
      if (!supports(backend, 'eager-dial')) this.skip(); // nothing is dialed without a request
      const seen = watchUnhandled();
      const port = await blackhole();
      const p = backend.pool({ baseURL: `http://127.0.0.1:${port}`, size: 2, dialTimeout: 50 });
      await until(() => p.stats().totals.errors >= 2);
      await turns(2);
      expect(seen).to.deep.equal([]);
    });

    it('a refused dial with no request waiting is not an unhandled error', async function () {
      if (!supports(backend, 'eager-dial')) this.skip(); // nothing is dialed without a request
      const seen = watchUnhandled();
      const port = await freePort();
      const p = backend.pool({ baseURL: `http://127.0.0.1:${port}`, size: 2 });
      await until(() => p.stats().totals.errors >= 2);
      await turns(2);
      expect(seen).to.deep.equal([]);
      // And a request made afterwards gets the refusal, not a timeout.
      const err = await rejects(p.get('/'), ConnectError, 'HCP_CONNECT');
      expect(err.phase).to.equal('dial');
    });

    it('a refused dial rejects the request with ConnectError in phase dial, not a timeout, and nothing is unhandled', async () => {
      const seen = watchUnhandled();
      const port = await freePort();
      const p = backend.pool({ baseURL: `http://127.0.0.1:${port}`, size: 2 });
      const err = await rejects(p.get('/'), ConnectError, 'HCP_CONNECT');
      expect(err).to.not.be.instanceOf(ConnectTimeoutError);
      expect(err.phase).to.equal('dial');
      expect(err.origin).to.equal(`http://127.0.0.1:${port}`);
      await turns(2);
      expect(seen).to.deep.equal([]);
    });
  });

  describe(`${backend.name}: timers: TLS handshake`, function () {
    this.timeout(3000);
    afterEach(cleanup);

    it('a server that never answers the ClientHello fails with TLSTimeoutError and its socket is dropped', async () => {
      // Reads (so that it sees the client's FIN) and never answers.
      const server = net.createServer((s) => s.on('error', () => {}).resume());
      const conns = serverConnections(server);
      const port = await listen(server);
      const p = backend.pool({ baseURL: `https://127.0.0.1:${port}`, size: 1, tlsTimeout: 100 });
      const err = await rejects(p.get('/'), TLSTimeoutError, 'HCP_TLS_TIMEOUT');
      expect(err.phase).to.equal('tls');
      expect(err.socketId).to.equal(0);
      expect(err.origin).to.equal(`https://127.0.0.1:${port}`);
      expect(conns.length).to.be.at.least(1);
      await conns[0]!.closed;
    });
  });

  // ---- response head

  describe(`${backend.name}: timers: responseHeaderTimeout`, function () {
    this.timeout(3000);
    afterEach(cleanup);

    it('a server that reads the request and says nothing: HeadersTimeoutError, socket dropped, next request works', async () => {
      let heads = 0;
      const { server, url } = await rawServer((socket) => {
        if (heads++ === 0) return; // the first request gets nothing
        socket.write(reply('second'));
      });
      const conns = serverConnections(server);
      const p = backend.pool({ baseURL: url, size: 1, responseHeaderTimeout: 100 });
      const err = await rejects(p.get('/first'), HeadersTimeoutError, 'HCP_HEADERS_TIMEOUT');
      expect(err.phase).to.equal('headers');
      expect(err.socketId).to.equal(0);
      expect(err.origin).to.equal(url);
      await conns[0]!.closed;
      const res = await p.get('/second');
      expect(res.statusCode).to.equal(200);
      expect(res.text()).to.equal('second');
      expect(conns.length).to.equal(2);
    });

    it('is not reset by response bytes: a head trickled byte by byte times out', async () => {
      const head = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-padding: aaaaaaaaaaaaaaaaaaaa\r\n\r\nok';
      const { server, url } = await rawServer((socket) => trickle(socket, head, 20));
      const conns = serverConnections(server);
      const p = backend.pool({ baseURL: url, size: 1, responseHeaderTimeout: 150 });
      const err = await rejects(p.get('/'), HeadersTimeoutError, 'HCP_HEADERS_TIMEOUT');
      expect(err.phase).to.equal('headers');
      expect(err.socketId).to.equal(0);
      await conns[0]!.closed;
    });

    it('does not cover the body: a head on time and a slow body succeed', async () => {
      const body = 'abcdefghij';
      const { url } = await rawServer((socket) => {
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
        trickle(socket, body, 40); // about 400 ms, far past the header timeout
      });
      const p = backend.pool({ baseURL: url, size: 1, responseHeaderTimeout: 100 });
      const res = await p.get('/');
      expect(res.text()).to.equal(body);
    });

    it('starts only once a request head too large for the socket buffers is fully written', async () => {
      // A 32 MB header, more than loopback socket buffers hold: the kernel takes part of
      // the head, the rest leaves as the server reads. The server reads nothing for 300 ms,
      // three times the header timeout.
      const big = 'x'.repeat(32 * 1024 * 1024);
      const server = net.createServer((socket) => {
        socket.on('error', () => {});
        socket.pause();
        setTimeout(() => {
          let tail = '';
          socket.on('data', (d: Buffer) => {
            tail = (tail + d.subarray(-4).toString('latin1')).slice(-4);
            if (tail === '\r\n\r\n') socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
          });
          socket.resume();
        }, 300);
      });
      const port = await listen(server);
      const p = backend.pool({ baseURL: `http://127.0.0.1:${port}`, size: 1, responseHeaderTimeout: 100 });
      const res = await p.get('/', { headers: { 'x-big': big } });
      expect(res.text()).to.equal('ok');
    });

    it('does not cover the body even when the head arrives before the request body is fully written', async () => {
      const big = Buffer.alloc(8 * 1024 * 1024, 'x');
      const body = 'abcdefghij';
      const server = net.createServer((socket) => {
        socket.on('error', () => {});
        // Head at the first bytes of the request, before the 8 MB upload is read (it is
        // read, and thrown away, as it comes); the response body follows slowly.
        socket.once('data', () => {
          socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
          trickle(socket, body, 40);
        });
        socket.resume();
      });
      const port = await listen(server);
      const p = backend.pool({ baseURL: `http://127.0.0.1:${port}`, size: 1, responseHeaderTimeout: 100 });
      const res = await p.post('/upload', big);
      expect(res.text()).to.equal(body);
    });
  });

  // ---- body

  describe(`${backend.name}: timers: bodyTimeout`, function () {
    this.timeout(3000);
    afterEach(cleanup);

    /** A server whose first request gets a head and the first part of its body, then nothing; later ones get `reply('fast')`. */
    async function stallingBody(response: string) {
      let heads = 0;
      const { server, url } = await rawServer((socket) => {
        socket.write(heads++ === 0 ? response : reply('fast'));
      });
      return { url, conns: serverConnections(server) };
    }

    for (const [kind, response] of [
      ['Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'],
      ['chunked', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n'],
      ['close-delimited', 'HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nabc'],
    ] as const) {
      it(`a ${kind} body that stalls after 3 bytes: BodyTimeoutError in phase body, socket dropped, next request works`, async () => {
        const { url, conns } = await stallingBody(response);
        const p = backend.pool({ baseURL: url, size: 1, bodyTimeout: 100 });
        const err = await rejects(p.get('/stall'), BodyTimeoutError, 'HCP_BODY_TIMEOUT');
        expect(err.phase).to.equal('body');
        expect(err.socketId).to.equal(0);
        expect(err.origin).to.equal(url);
        await conns[0]!.closed;
        expect((await p.get('/fast')).text()).to.equal('fast');
        expect(conns.length).to.equal(2);
      });
    }

    for (const bodyTimeout of [undefined, 0]) {
      it(`is on by default (30 s): a stalled body has its deadline armed${bodyTimeout === 0 ? ', and none with bodyTimeout 0' : ''}`, async () => {
        expect(defaults.bodyTimeout).to.equal(30_000);
        const { url } = await stallingBody('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
        // Every other timer off, so that the body timer is the only deadline this pool can arm.
        const p = backend.pool({ baseURL: url, size: 1, responseHeaderTimeout: 0, dialTimeout: 0, idleConnTimeout: 0, bodyTimeout });
        const armedBefore = armedCount();
        const pending = p.get('/stall');
        pending.catch(() => {});
        await until(() => p.stats().totals.bytesIn >= 42); // the head and the three body bytes
        await turns(2);
        expect(armedCount() - armedBefore).to.equal(bodyTimeout === 0 ? 0 : 1);
        p.destroy();
        await rejects(pending, Error);
      });
    }

    it('is refreshed by every read: a body trickled slower in total than bodyTimeout, but with short gaps, succeeds', async () => {
      const body = 'abcdefghij';
      const { url } = await rawServer((socket) => {
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
        trickle(socket, body, 30); // about 300 ms in all, gaps of 30 ms
      });
      const p = backend.pool({ baseURL: url, size: 1, bodyTimeout: 200 });
      expect((await p.get('/')).text()).to.equal(body);
    });

    it('0 turns it off: a stalled body then meets only requestTimeout', async () => {
      const { url } = await stallingBody('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
      const p = backend.pool({ baseURL: url, size: 1, bodyTimeout: 0, requestTimeout: 200 });
      const err = await rejects(p.get('/stall'), RequestTimeoutError, 'HCP_REQUEST_TIMEOUT');
      expect(err.phase).to.equal('body');
    });

    it('does not cover the wait for the head: a late head with a prompt body succeeds', async () => {
      const { url } = await rawServer((socket) => {
        setTimeout(() => socket.write(reply('late head')), 250);
      });
      const p = backend.pool({ baseURL: url, size: 1, bodyTimeout: 100 });
      expect((await p.get('/')).text()).to.equal('late head');
    });
  });

  // ---- whole request

  describe(`${backend.name}: timers: requestTimeout`, function () {
    this.timeout(3000);
    afterEach(cleanup);

    it('a server that never answers: RequestTimeoutError in phase headers, socket dropped', async () => {
      const { server, url } = await rawServer(() => {});
      const conns = serverConnections(server);
      const p = backend.pool({ baseURL: url, size: 1, requestTimeout: 100 });
      const err = await rejects(p.get('/'), RequestTimeoutError, 'HCP_REQUEST_TIMEOUT');
      expect(err.phase).to.equal('headers');
      expect(err.socketId).to.equal(0);
      expect(err.origin).to.equal(url);
      await conns[0]!.closed;
    });

    it('a per-request timeout applies when the pool has none', async () => {
      const { url } = await rawServer(() => {});
      const p = backend.pool({ baseURL: url, size: 1 });
      const err = await rejects(p.get('/', { timeout: 100 }), RequestTimeoutError, 'HCP_REQUEST_TIMEOUT');
      expect(err.phase).to.equal('headers');
    });

    it('a per-request timeout of 0 turns the pool requestTimeout off for that call', async () => {
      const held = new Map<string, net.Socket>();
      let onHead: (() => void) | null = null;
      const { url } = await rawServer((socket, head) => {
        held.set(head.split(' ')[1]!, socket);
        onHead?.();
      });
      const p = backend.pool({ baseURL: url, size: 2, requestTimeout: 100 });
      const a = p.get('/a', { timeout: 0 });
      const b = p.get('/b');
      await new Promise<void>((r) => (onHead = () => held.size === 2 && r()));
      // b, sent with a, times out under the pool's requestTimeout ...
      await rejects(b, RequestTimeoutError, 'HCP_REQUEST_TIMEOUT');
      // ... while a, older than b, is still waiting and gets its answer.
      held.get('/a')!.write(reply('late'));
      const res = await a;
      expect(res.text()).to.equal('late');
    });

    it('a slow body: RequestTimeoutError in phase body, socket dropped, the slot re-dials and the next request works', async () => {
      let heads = 0;
      const { server, url } = await rawServer((socket) => {
        if (heads++ === 0) {
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n');
          trickle(socket, 'x'.repeat(100), 20);
        } else {
          socket.write(reply('fast'));
        }
      });
      const conns = serverConnections(server);
      const p = backend.pool({ baseURL: url, size: 1, requestTimeout: 150 });
      const err = await rejects(p.get('/slow'), RequestTimeoutError, 'HCP_REQUEST_TIMEOUT');
      expect(err.phase).to.equal('body');
      expect(err.socketId).to.equal(0);
      await conns[0]!.closed;
      const res = await p.get('/fast');
      expect(res.text()).to.equal('fast');
      expect(conns.length).to.equal(2);
    });

    it('a request timing out in the queue fails in phase queue and leaves the request on the socket alone', async () => {
      const paths: string[] = [];
      let first: net.Socket | null = null;
      let sawFirst!: () => void;
      const firstArrived = new Promise<void>((r) => (sawFirst = r));
      const { url } = await rawServer((socket, head) => {
        paths.push(head.split(' ')[1]!);
        if (first === null) {
          first = socket;
          sawFirst();
        } else {
          socket.write(reply('third'));
        }
      });
      const p = backend.pool({ baseURL: url, size: 1 });
      const one = p.get('/1');
      await firstArrived;
      const err = await rejects(p.get('/2', { timeout: 50 }), RequestTimeoutError, 'HCP_REQUEST_TIMEOUT');
      expect(err.phase).to.equal('queue');
      expect(err.socketId).to.equal(undefined);
      expect(err.origin).to.equal(url);
      expect(p.stats().totals.queued).to.equal(0);
      first!.write(reply('first'));
      expect((await one).text()).to.equal('first');
      expect((await p.get('/3')).text()).to.equal('third');
      // The timed-out request never reached the server.
      expect(paths).to.deep.equal(['/1', '/3']);
    });

    it('a request and header timer due together do not fail the next queued request', async () => {
      let heads = 0;
      let sawFirst!: () => void;
      const firstArrived = new Promise<void>((r) => (sawFirst = r));
      const { url } = await rawServer((socket) => {
        if (heads++ > 0) socket.write(reply('next'));
        else sawFirst();
      });
      const p = backend.pool({ baseURL: url, size: 1, requestTimeout: 100, responseHeaderTimeout: 100 });
      await p.ready();
      const first = p.get('/hang');
      const next = p.get('/next', { timeout: 0 });
      const settled = first.then(
        () => null,
        (e: Error) => e,
      );
      await firstArrived;
      await turns(2);
      block(150); // both deadlines of the first request are now due in one wake-up
      expect(await settled).to.be.instanceOf(Error);
      expect((await next).text()).to.equal('next');
    });
  });

  // ---- idle

  describe(`${backend.name}: timers: idle sockets`, function () {
    this.timeout(3000);
    afterEach(cleanup);

    it('idleConnTimeout closes a parked socket; the next request re-dials transparently', async () => {
      const { server, url } = await rawServer((socket) => socket.write(reply('ok')));
      const conns = serverConnections(server);
      const p = backend.pool({ baseURL: url, size: 1, idleConnTimeout: 100 });
      expect((await p.get('/1')).text()).to.equal('ok');
      expect(p.stats().origins[0]!.sockets[0]!.state).to.equal('idle');
      await conns[0]!.closed; // closed by the client: the server never closes
      expect((await p.get('/2')).text()).to.equal('ok');
      expect(conns.length).to.equal(2);
    });

    it('Keep-Alive: timeout=1 (hint minus 1 s = 0) closes the socket right after the response', async () => {
      const { server, url } = await rawServer((socket) => socket.write(reply('ok', 'keep-alive: timeout=1\r\n')));
      const conns = serverConnections(server);
      const p = backend.pool({ baseURL: url, size: 1 });
      await p.ready();
      expect((await p.get('/1')).text()).to.equal('ok');
      expect(p.stats().origins[0]!.sockets[0]!.state).to.equal('dead');
      await conns[0]!.closed;
      expect((await p.get('/2')).text()).to.equal('ok');
      expect(conns.length).to.equal(2);
    });

    it('Keep-Alive: timeout=2 lowers a long idleConnTimeout: the client closes the idle socket', async () => {
      const { server, url } = await rawServer((socket) => socket.write(reply('ok', 'keep-alive: timeout=2\r\n')));
      const conns = serverConnections(server);
      const p = backend.pool({ baseURL: url, size: 1, idleConnTimeout: 60_000 });
      expect((await p.get('/1')).text()).to.equal('ok');
      expect(p.stats().origins[0]!.sockets[0]!.state).to.equal('idle'); // kept, for now
      await conns[0]!.closed; // about 1 s later; 60 s without the hint
      expect((await p.get('/2')).text()).to.equal('ok');
      expect(conns.length).to.equal(2);
    });
  });

  // ---- the shared clock

  describe(`${backend.name}: timers: one shared clock`, function () {
    this.timeout(5000);
    afterEach(cleanup);

    it('a burst of 1000 requests creates no timer per request, and every deadline is disarmed afterwards', async () => {
      const { url, server } = await rawServer((socket) => socket.write(reply('ok')));
      const conns = serverConnections(server);
      const start = armedCount();
      const p = backend.pool({ baseURL: url, size: 8, responseHeaderTimeout: 5000, requestTimeout: 5000 });
      await p.ready();
      const real = globalThis.setTimeout;
      let created = 0;
      globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
        created++;
        return real(...args);
      }) as typeof setTimeout;
      defer(() => (globalThis.setTimeout = real));
      let results: string[];
      try {
        const all: Promise<string>[] = [];
        for (let i = 0; i < 1000; i++) all.push(p.get(`/${i}`).then((r) => r.text()));
        results = await Promise.all(all);
      } finally {
        globalThis.setTimeout = real;
      }
      expect(results.every((t) => t === 'ok')).to.equal(true);
      expect(created).to.be.below(20);
      // Left armed: one idle timer per parked socket, no request deadline. node:http parks
      // a socket a little after its response ended: wait for all eight, not for time.
      await until(() => armedCount() - start >= 8, 'eight parked sockets');
      expect(armedCount() - start).to.equal(8);
      p.destroy();
      // Once its sockets are gone, a destroyed client has nothing armed.
      expect(conns.length).to.equal(8);
      await Promise.all(conns.map((c) => c.closed));
      await turns(2);
      expect(armedCount()).to.equal(start);
    });

    it('a timed-out request leaves nothing armed once the pool is destroyed', async () => {
      const { url, server } = await rawServer(() => {});
      const conns = serverConnections(server);
      const start = armedCount();
      const p = backend.pool({ baseURL: url, size: 2, responseHeaderTimeout: 1000, requestTimeout: 50 });
      await rejects(p.get('/'), RequestTimeoutError, 'HCP_REQUEST_TIMEOUT');
      p.destroy();
      await Promise.all(conns.map((c) => c.closed));
      await turns(2);
      expect(armedCount()).to.equal(start);
    });
  });
}
