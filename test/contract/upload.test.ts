// Streamed request bodies on both backends: every body type arrives whole, with its
// declared length or chunked; a body longer or shorter than declared, or a failing
// source, fails the request (RequestBodyError) without sending anything past the
// declared length, and drops the socket; writes follow the socket's backpressure; a
// streamed body is never resent; an early final answer stops the upload and is
// delivered; Expect: 100-continue with a 100, with a final answer, and with a server
// that ignores it; and no chunked body to an HTTP/1.0 peer.
import * as net from 'node:net';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { RequestBodyError, SocketError, WriteTimeoutError, type StreamBody } from '../../dist/index.js';
import { cleanup, httpServer, listen, readRequests, rejects, reply, turns, until } from '../helpers.js';
import { BACKENDS } from './backends.js';

/** What a raw server saw on one connection: every byte, and whether the client closed it. */
interface Seen {
  bytes: Buffer;
  ended: boolean;
}

/**
 * A raw server that records every byte of every connection; `onBytes` may answer
 * (it gets the connection's bytes so far each time more arrive).
 */
async function recorder(onBytes: (socket: net.Socket, all: Buffer, conn: number) => void, ports: readonly number[] = [0]) {
  const conns: Seen[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const seen: Seen = { bytes: Buffer.alloc(0), ended: false };
    const index = conns.push(seen) - 1;
    socket.on('data', (d: Buffer) => {
      seen.bytes = Buffer.concat([seen.bytes, d]);
      onBytes(socket, seen.bytes, index);
    });
    socket.on('close', () => (seen.ended = true));
  });
  // The first of `ports` that is free (0: any).
  for (const [i, want] of ports.entries()) {
    try {
      const port = await listen(server, want);
      return { url: `http://127.0.0.1:${port}`, conns };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || i === ports.length - 1) throw err;
    }
  }
  throw new Error('no port to listen on');
}

/**
 * Ports whose digits hold `digits`, below Linux's default ephemeral range (no client socket of
 * the run holds them): a server that reads the client's bytes sees them in its `host`.
 */
function portsWith(digits: string): number[] {
  const ports: number[] = [];
  for (let p = 1024; p < 32768; p++) if (String(p).includes(digits)) ports.push(p);
  return ports;
}

/** The body bytes after the first head in `all`, or null before its end. */
function bodyOf(all: Buffer): Buffer | null {
  const end = all.indexOf('\r\n\r\n');
  return end < 0 ? null : all.subarray(end + 4);
}

/** A node:http server that answers with what it received: the body's length, text and framing headers. */
function echo() {
  return httpServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString();
      res.end(JSON.stringify({ body, cl: req.headers['content-length'] ?? null, te: req.headers['transfer-encoding'] ?? null, expect: req.headers.expect ?? null }));
    });
  });
}

async function* pieces(...p: (string | Uint8Array)[]): AsyncGenerator<string | Uint8Array> {
  for (const x of p) yield x;
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: streamed request bodies`, function () {
    this.timeout(15_000);
    afterEach(cleanup);

    it('a Readable, an async generator, a web ReadableStream and a Blob arrive whole: chunked without a length, with it when given', async () => {
      const { url } = await echo();
      const p = backend.pool({ baseURL: url, size: 1 });
      const bodies: [string, () => StreamBody, Record<string, string> | undefined, string | null][] = [
        ['Readable', () => Readable.from([Buffer.from('ab'), Buffer.from('cd')]), undefined, null],
        ['async generator', () => pieces('ab', new Uint8Array([0x63, 0x64])), undefined, null],
        ['ReadableStream', () => new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('abcd')), c.close()) }), undefined, null],
        ['Readable with a content-length', () => Readable.from(['ab', 'cd']), { 'content-length': '4' }, '4'],
        ['Blob', () => new Blob(['ab', 'cd']), undefined, '4'],
      ];
      for (const [what, make, headers, cl] of bodies) {
        const res = await p.post('/', make(), headers === undefined ? undefined : { headers });
        expect(res.json(), what).to.deep.equal({ body: 'abcd', cl, te: cl === null ? 'chunked' : null, expect: null });
      }
    });

    it('a body longer than its content-length fails with RequestBodyError before the excess is sent, and the socket is dropped', async () => {
      const { url, conns } = await recorder(() => {});
      const p = backend.pool({ baseURL: url, size: 1 });
      const err = await rejects(p.post('/', pieces('abc', 'defg'), { headers: { 'content-length': '5' } }), RequestBodyError, 'HCP_REQUEST_BODY');
      expect(err.phase).to.equal('write');
      await until(() => conns[0]?.ended === true, 'the client closing its socket');
      // What went is the part within the declared length, or less (NodePool may not have flushed it).
      expect('abc'.startsWith(bodyOf(conns[0]!.bytes)?.toString() ?? '')).to.equal(true);
    });

    it('a body shorter than its content-length fails with RequestBodyError, and the socket is dropped', async () => {
      const { url, conns } = await recorder(() => {});
      const p = backend.pool({ baseURL: url, size: 1 });
      await rejects(p.post('/', pieces('abc'), { headers: { 'content-length': '10' } }), RequestBodyError, 'HCP_REQUEST_BODY');
      await until(() => conns[0]?.ended === true, 'the client closing its socket');
      // What went is the part within the declared length, or less (NodePool may not have flushed it).
      expect('abc'.startsWith(bodyOf(conns[0]!.bytes)?.toString() ?? '')).to.equal(true);
    });

    it('a source that fails fails the request with RequestBodyError, its error as cause', async () => {
      const { url } = await echo();
      const p = backend.pool({ baseURL: url, size: 1 });
      const boom = new Error('boom');
      const source = (async function* () {
        yield 'a';
        throw boom;
      })();
      const err = await rejects(p.post('/', source), RequestBodyError, 'HCP_REQUEST_BODY');
      expect(err.cause).to.equal(boom);
      // The pool goes on.
      expect((await p.post('/', 'x')).json()).to.include({ body: 'x' });
    });

    it('writes follow the socket: a server that stops reading stops the source being read', async () => {
      const { url, conns } = await recorder((socket) => socket.pause());
      const p = backend.pool({ baseURL: url, size: 1 });
      let produced = 0;
      const piece = Buffer.alloc(64 * 1024, 'u');
      const source = (async function* () {
        for (;;) {
          produced++;
          yield piece;
        }
      })();
      const pending = p.post('/', source).catch((e: unknown) => e);
      await until(() => conns.length === 1 && produced > 0, 'the upload starting');
      // Once the kernel's buffers are full, nothing more is read from the source: it stalls
      // (without backpressure it never would, and memory would grow without bound).
      let last = -1;
      let still = 0;
      await until(
        () => {
          still = produced === last ? still + 1 : 0;
          last = produced;
          return still >= 20;
        },
        'the source being read no more',
      );
      expect(produced * piece.length).to.be.below(64 * 1024 * 1024);
      p.destroy();
      await pending;
    });

    it('a streamed PUT is never resent, even on a reused socket the server drops unanswered', async () => {
      let heads = 0;
      const { url } = await recorder((socket, all) => {
        const text = all.toString('latin1');
        if (text.startsWith('GET') && text.endsWith('\r\n\r\n') && !text.includes('PUT')) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        if (text.includes('PUT') && text.endsWith('0\r\n\r\n')) {
          heads++;
          socket.destroy();
        }
      });
      const p = backend.pool({ baseURL: url, size: 1 });
      await p.get('/warm');
      await rejects(p.request({ method: 'PUT', path: '/up', body: pieces('abc') }), SocketError, 'HCP_SOCKET');
      expect(heads).to.equal(1);
    });

    it('an early final answer while uploading stops the upload, is delivered, and the source is destroyed', async () => {
      const { url, conns } = await recorder((socket, all, conn) => {
        if (conn === 0 && all.length > 0 && !socket.destroyed && (socket as { answered?: boolean }).answered !== true) {
          (socket as { answered?: boolean }).answered = true;
          socket.write('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 3\r\n\r\nbig');
        }
      });
      const p = backend.pool({ baseURL: url, size: 1 });
      const source = new Readable({ read() {
        this.push(Buffer.alloc(16 * 1024, 'b'));
      } });
      const res = await p.post('/', source);
      expect(res.statusCode).to.equal(413);
      expect(res.text()).to.equal('big');
      await until(() => source.destroyed, 'the source destroyed');
      await until(() => conns[0]!.ended, 'the socket dropped');
    });

    it('Expect: 100-continue: the body waits for the 100, then goes', async () => {
      let before = -1;
      const { url } = await recorder((socket, all) => {
        const body = bodyOf(all);
        const s = socket as { state?: number };
        if (body !== null && s.state === undefined) {
          s.state = 1;
          // Nothing of the body may come before the 100: look a few turns later, then send it.
          void turns(10).then(() => {
            before = bodyOf(all)!.length;
            socket.write('HTTP/1.1 100 Continue\r\n\r\n');
          });
        }
        if (body !== null && body.toString() === 'hello' && s.state === 1) {
          s.state = 2;
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ndone');
        }
      });
      const p = backend.pool({ baseURL: url, size: 1, expectContinueTimeout: 10_000 });
      const res = await p.post('/', 'hello', { expectContinue: true });
      expect(res.text()).to.equal('done');
      expect(before).to.equal(0);
    });

    it('Expect: 100-continue: a final answer instead of the 100 is delivered, and the body is never sent', async () => {
      // On any port: the server once answered only while the client's bytes held no '417',
      // and on a port with those digits (its `host` header) it never answered at all.
      for (const ports of [[0], portsWith('417')]) {
        const answered = new Set<number>();
        const { url, conns } = await recorder((socket, all, conn) => {
          if (bodyOf(all) === null || answered.has(conn)) return;
          answered.add(conn);
          socket.write('HTTP/1.1 417 Expectation Failed\r\ncontent-length: 2\r\n\r\nno');
        }, ports);
        const p = backend.pool({ baseURL: url, size: 1, expectContinueTimeout: 10_000 });
        const res = await p.post('/', pieces('secret'), { expectContinue: true, headers: { 'content-length': '6' } });
        expect(res.statusCode, url).to.equal(417);
        await until(() => conns[0]!.ended, 'the socket dropped');
        expect(conns[0]!.bytes.toString('latin1')).to.match(/\r\nexpect: 100-continue\r\n/i);
        expect(bodyOf(conns[0]!.bytes)!.length).to.equal(0);
      }
    });

    it('Expect: 100-continue: a server that ignores it gets the body after expectContinueTimeout', async () => {
      // (node:http without a checkContinue listener answers the 100 itself: a raw server, then.)
      const raw = await recorder((socket, all) => {
        if (bodyOf(all)?.toString() === 'hello') socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
      const p = backend.pool({ baseURL: raw.url, size: 1, expectContinue: true, expectContinueTimeout: 20 });
      expect((await p.post('/', 'hello')).text()).to.equal('ok');
    });

    it('no chunked body to a socket whose last answer was HTTP/1.0: RequestBodyError before anything is written; a content-length one goes', async () => {
      let seen = '';
      const server = net.createServer((socket) => {
        socket.on('error', () => {});
        socket.on('data', (d: Buffer) => (seen += d.toString('latin1')));
        readRequests(socket, () => void socket.write('HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok'));
      });
      const url = `http://127.0.0.1:${await listen(server)}`;
      const p = backend.pool({ baseURL: url, size: 1 });
      await p.get('/');
      const err = await rejects(p.post('/', pieces('abc')), RequestBodyError, 'HCP_REQUEST_BODY');
      expect(err.message).to.match(/HTTP\/1\.0/);
      expect(seen).to.not.include('POST');
      const res = await p.post('/', pieces('abc'), { headers: { 'content-length': '3' } });
      expect(res.text()).to.equal('ok');
      expect(seen).to.include('POST / HTTP/1.1');
    });
  });
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: writeTimeout`, function () {
    this.timeout(10_000);
    afterEach(cleanup);

    /** A server that takes the connection and then reads nothing at all. */
    async function deaf() {
      const server = net.createServer((socket) => {
        socket.on('error', () => {});
        socket.pause();
      });
      return `http://127.0.0.1:${await listen(server)}`;
    }

    it('a server that stops reading an upload fails it with WriteTimeoutError in phase write; nothing hangs', async () => {
      const url = await deaf();
      const p = backend.pool({ baseURL: url, size: 1, writeTimeout: 200, responseHeaderTimeout: 0 });
      const err = await rejects(p.post('/up', Buffer.alloc(64 * 1024 * 1024, 1)), WriteTimeoutError, 'HCP_WRITE_TIMEOUT');
      expect(err.phase).to.equal('write');
    });

    it('a streamed body the server stops reading: the same', async () => {
      const url = await deaf();
      const p = backend.pool({ baseURL: url, size: 1, writeTimeout: 200 });
      async function* endless(): AsyncGenerator<Buffer> {
        for (;;) yield Buffer.alloc(1024 * 1024, 2);
      }
      await rejects(p.request({ method: 'PUT', path: '/up', body: endless() }), WriteTimeoutError, 'HCP_WRITE_TIMEOUT');
    });

    it('a server that reads slowly but steadily, with pauses shorter than writeTimeout, gets the whole upload', async () => {
      const size = 16 * 1024 * 1024;
      let got = 0;
      const server = net.createServer((socket) => {
        socket.on('error', () => {});
        let head = true;
        socket.on('data', (d: Buffer) => {
          got += d.length;
          // Read a little, then stop for 5 ms: far longer in all than writeTimeout, never in one gap.
          socket.pause();
          setTimeout(() => socket.resume(), 5);
          if (head && d.includes('\r\n\r\n')) head = false;
          if (got >= size) socket.write(reply('all'));
        });
      });
      const port = await listen(server);
      const p = backend.pool({ baseURL: `http://127.0.0.1:${port}`, size: 1, writeTimeout: 600 });
      const res = await p.post('/up', Buffer.alloc(size, 3));
      expect(res.text()).to.equal('all');
    });
  });
}
