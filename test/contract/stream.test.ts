// pool.stream(init) on both backends: it resolves at the end of the head, the body is a
// Readable with real backpressure, an early destroy or abort drops the socket, errors
// after the head reach the body with the usual classes and codes, and a body nobody
// reads is ended by bodyTimeout.
import * as net from 'node:net';
import { expect } from 'chai';
import { AbortError, BodyTimeoutError, InvalidArgumentError, PoolDestroyedError, SocketError } from '../../dist/index.js';
import { cleanup, listen, noStrayErrors, rawServer, readRequests, rejects, reply, serverConnections, turns, until } from '../helpers.js';
import { BACKENDS } from './backends.js';

/** Resolves with the error a stream emits (or fails the test if it ends without one). */
function streamError(body: NodeJS.ReadableStream): Promise<Error> {
  return new Promise((resolve, reject) => {
    body.on('error', resolve);
    body.on('end', () => reject(new Error('the body ended without an error')));
    body.resume();
  });
}

/** A server that answers every request with one large Content-Length body, writing as fast as its socket takes it; `blocked` while its writes are refused. */
async function bigServer(size: number) {
  const state = { sent: 0, blocked: false };
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    readRequests(socket, () => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n`);
      const piece = Buffer.alloc(1024 * 1024, 'q');
      let sent = 0; // of this response; `state.sent` follows the latest one
      const pump = (): void => {
        state.blocked = false;
        while (sent < size) {
          const n = Math.min(piece.length, size - sent);
          sent += n;
          state.sent = sent;
          if (!socket.write(n === piece.length ? piece : piece.subarray(0, n))) {
            state.blocked = true;
            return void socket.once('drain', pump);
          }
        }
      };
      pump();
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, state, server };
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: stream()`, function () {
    this.timeout(15_000);
    afterEach(cleanup);

    it('resolves at the end of the head, before the body has come; the body then reads to its end', async () => {
      let socket: net.Socket | null = null;
      const { url } = await rawServer((s) => {
        socket = s;
        s.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 10\r\n\r\nhello');
      });
      const p = backend.pool({ baseURL: url, size: 1 });
      const res = await p.stream({ method: 'GET', path: '/a' });
      expect([res.statusCode, res.statusMessage, res.headers['content-type']]).to.deep.equal([200, 'OK', 'text/plain']);
      const text = res.body.text();
      await until(() => socket !== null, 'the request');
      socket!.write('world');
      expect(await text).to.equal('helloworld');
    });

    it('for await reads the pieces; json() and arrayBuffer() read it whole; trailers are kept', async () => {
      const { url } = await rawServer((s, head) => {
        if (head.startsWith('GET /json')) s.write(reply('{"a":[1,2]}'));
        else s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\nx-sum: 6\r\n\r\n');
      });
      const p = backend.pool({ baseURL: url, size: 1 });
      const res = await p.stream({ method: 'GET', path: '/chunks' });
      const pieces: string[] = [];
      for await (const chunk of res.body) pieces.push((chunk as Buffer).toString());
      expect(pieces.join('')).to.equal('abcdef');
      expect([...res.body.rawTrailers]).to.deep.equal(['x-sum', '6']);
      expect(await (await p.stream({ method: 'GET', path: '/json' })).body.json()).to.deep.equal({ a: [1, 2] });
      const ab = await (await p.stream({ method: 'GET', path: '/json' })).body.arrayBuffer();
      expect(Buffer.from(ab).toString()).to.equal('{"a":[1,2]}');
    });

    it('a consumer that stops reading holds the server back, with little buffered; reading on gets every byte', async () => {
      const size = 64 * 1024 * 1024;
      const { url, state } = await bigServer(size);
      const p = backend.pool({ baseURL: url, size: 1 });
      const res = await p.stream({ method: 'GET', path: '/big' });
      // Nobody reads: the pool pauses the socket and TCP pushes back on the server.
      await until(() => state.blocked, 'the server held back');
      const readBefore = p.stats().totals.bytesIn;
      await turns(200); // many turns of the loop: without backpressure the client would read on meanwhile
      // node:http may fill its own small buffers first; either way the reading stops.
      expect(p.stats().totals.bytesIn - readBefore).to.be.lessThan(1024 * 1024);
      expect(state.sent).to.be.lessThan(size / 2);
      expect(res.body.readableLength).to.be.at.most(256 * 1024);
      let received = 0;
      for await (const chunk of res.body) received += (chunk as Buffer).length;
      expect(received).to.equal(size);
    });

    it('a body whose last piece comes while the consumer holds it back: the socket reads again for the next request', async () => {
      // 200 KiB fills the body's buffer more than once: the client pauses, and the end
      // arrives with a piece that fills it again.
      const body = Buffer.alloc(200 * 1024, 'b');
      const { url } = await rawServer((socket) => socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`), body])));
      const p = backend.pool({ baseURL: url, size: 1, responseHeaderTimeout: 5000 });
      for (let i = 0; i < 5; i++) {
        const res = await p.stream({ method: 'GET', path: `/r${i}` });
        let n = 0;
        for await (const chunk of res.body) n += (chunk as Buffer).length;
        expect(n).to.equal(body.length);
      }
      expect(p.stats().totals.reconnects).to.equal(0);
    });

    it('destroying the body early drops the socket; the slot re-dials for the next request', async () => {
      const { url, server } = await bigServer(16 * 1024 * 1024);
      const conns = serverConnections(server);
      const p = backend.pool({ baseURL: url, size: 1 });
      const res = await p.stream({ method: 'GET', path: '/big' });
      res.body.destroy();
      await conns[0]!.closed;
      const again = await p.stream({ method: 'GET', path: '/big' });
      let n = 0;
      for await (const chunk of again.body) n += (chunk as Buffer).length;
      expect(n).to.equal(16 * 1024 * 1024);
      expect(conns).to.have.length(2);
    });

    it('the signal firing after the head errors the body with AbortError', async () => {
      const { url } = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhel'));
      const p = backend.pool({ baseURL: url, size: 1 });
      const ac = new AbortController();
      const res = await p.stream({ method: 'GET', path: '/a', signal: ac.signal });
      const failed = streamError(res.body);
      ac.abort();
      expect(await failed).to.be.instanceOf(AbortError);
    });

    it('a reset after the head errors the body with SocketError (HCP_SOCKET)', async () => {
      const { url } = await rawServer((s) => {
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhel', () => setImmediate(() => s.resetAndDestroy()));
      });
      const p = backend.pool({ baseURL: url, size: 1 });
      const res = await p.stream({ method: 'GET', path: '/a' });
      const err = await streamError(res.body);
      expect(err).to.be.instanceOf(SocketError);
      expect((err as SocketError).code).to.equal('HCP_SOCKET');
    });

    it('a body nobody reads is ended by bodyTimeout: BodyTimeoutError, socket dropped', async () => {
      const { url, state, server } = await bigServer(16 * 1024 * 1024);
      const conns = serverConnections(server);
      const p = backend.pool({ baseURL: url, size: 1, bodyTimeout: 150 });
      const res = await p.stream({ method: 'GET', path: '/big' });
      const failed = new Promise<Error>((resolve) => res.body.once('error', resolve));
      await until(() => state.blocked, 'the server held back');
      expect(await failed).to.be.instanceOf(BodyTimeoutError);
      await conns[0]!.closed;
    });

    it('a body nobody listens to, then the pool destroyed: nothing escapes as an uncaught error', async () => {
      await noStrayErrors(async () => {
        const { url } = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhel'));
        const p = backend.pool({ baseURL: url, size: 1 });
        const res = await p.stream({ method: 'GET', path: '/a' });
        p.destroy();
        await until(() => res.body.error !== null, 'the body failed');
        expect(res.body.error).to.be.instanceOf(PoolDestroyedError);
      });
    });

    it('a bad call rejects with InvalidArgumentError, nothing sent', async () => {
      let requests = 0;
      const { url } = await rawServer((s) => {
        requests++;
        s.write(reply());
      });
      const p = backend.pool({ baseURL: url, size: 1 });
      await rejects(p.stream({ method: 'GET', path: 'has space' }), InvalidArgumentError);
      await rejects(p.stream(null as never), InvalidArgumentError);
      expect(requests).to.equal(0);
    });
  });
}
