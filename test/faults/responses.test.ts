// Fault injection: misbehaving raw `net` servers on 127.0.0.1, one behaviour per test.
// Every case checks the outcome (error class AND code, or the exact success), that
// nothing hangs (each pool has a requestTimeout, so a hang would surface as a
// RequestTimeoutError and fail the class check), and that the pool serves the next
// request afterwards. Backend-neutral cases run against Pool and NodePool; where the
// backends cannot behave the same, the case runs on Pool only and says why.
import * as net from 'node:net';
import { expect } from 'chai';
import {
  ParseError,
  ResponseTooLargeError,
  SocketError,
  UpgradeError,
  type Client,
  type PoolOptions,
} from '../../dist/index.js';
import { causeCode, cleanup, defer, listen, noStrayErrors, pathOf, readRequests, rejects, reply, writeRead } from '../helpers.js';
import { BACKENDS } from '../contract/backends.js';

/** Generous bound on every request: a hang fails the test as a RequestTimeoutError instead of a mocha timeout. */
const GUARD_MS = 5000;

interface Conn {
  socket: net.Socket;
  index: number;
  closed: Promise<void>;
}

interface Ctx {
  socket: net.Socket;
  conn: Conn;
  head: string;
  path: string;
  /** Request number on this connection. */
  index: number;
}

type Handler = (ctx: Ctx) => void;

/**
 * A raw server: requests to `/bad` get `bad`; any other path gets `fine <path>`.
 * `onConnect` runs for each new connection before it has read anything.
 */
async function faultServer(bad: Handler, onConnect?: (conn: Conn) => void, custom?: (socket: net.Socket) => void) {
  const conns: Conn[] = [];
  const seen: string[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const conn: Conn = { socket, index: conns.length, closed: new Promise((r) => socket.once('close', () => r())) };
    conns.push(conn);
    onConnect?.(conn);
    if (custom !== undefined) return custom(socket);
    readRequests(socket, (head, index) => {
      const path = pathOf(head);
      seen.push(`${path}@${conn.index}`);
      const ctx = { socket, conn, head, path, index };
      if (path === '/bad') bad(ctx);
      else socket.write(reply(`fine ${path}`));
    });
  });
  const port = await listen(server);
  return { server, port, url: `http://127.0.0.1:${port}`, conns, seen };
}

/** Bytes the client read on connections other than `conn` (its earlier connections). */
function readBefore(p: Client, conn: Conn): number {
  return p.stats().totals.bytesIn - conn.socket.bytesWritten;
}

for (const backend of BACKENDS) {
  describe(`faults: ${backend.name}: misbehaving servers`, function () {
    this.timeout(15_000);
    afterEach(cleanup);
    beforeEach(() => noStrayErrors());

    /** Pool of one slot on `bad`'s server; `next()` checks the pool then serves a good request. */
    async function scenario(bad: Handler, options: PoolOptions = {}, onConnect?: (conn: Conn) => void) {
      const s = await faultServer(bad, onConnect);
      const p = backend.pool({ baseURL: s.url, size: 1, requestTimeout: GUARD_MS, ...options });
      return {
        ...s,
        p,
        /** The next request succeeds: `fresh`, over a new connection (the bad socket was dropped); else over the same one (reused). */
        next: async (fresh = true): Promise<void> => {
          const before = s.conns.length;
          expect((await p.get('/next')).text()).to.equal('fine /next');
          expect(s.seen[s.seen.length - 1]).to.equal(`/next@${fresh ? before : before - 1}`);
        },
      };
    }

    async function parseFailure(response: string | Buffer, codes: string[], options: PoolOptions = {}): Promise<ParseError> {
      const { p, next, conns } = await scenario(({ socket }) => void socket.write(response), options);
      const err = await rejects(p.get('/bad'), ParseError, 'HCP_PARSE');
      expect(err.parserCode).to.be.oneOf(codes);
      await next();
      expect(conns).to.have.length(2);
      return err;
    }

    it('a bad status line: ParseError HPE_INVALID_STATUS', async () => {
      const err = await parseFailure('HTTP/1.1 2x0 OK\r\ncontent-length: 0\r\n\r\n', ['HPE_INVALID_STATUS']);
      expect(err.phase).to.equal('headers');
    });

    it('binary garbage instead of a response: ParseError', async () => {
      // The first bytes of a TLS alert record, as a server speaking TLS on this port would send.
      await parseFailure(Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46, 0x00, 0xff]), ['HPE_INVALID_CONSTANT']);
    });

    it('a header field name and value split across packets: succeeds', async () => {
      let p!: Client;
      const { url } = await faultServer(async ({ socket, conn }) => {
        const base = readBefore(p, conn);
        for (const piece of ['HTTP/1.1 200 OK\r\nX-Sp', 'lit-Na', 'me: first ha', 'lf, second half\r\nconte', 'nt-length: 4\r', '\n\r', '\nfi', 'ne']) {
          await writeRead(p, socket, piece, base);
        }
      });
      p = backend.pool({ baseURL: url, size: 1, requestTimeout: GUARD_MS });
      const res = await p.get('/bad');
      expect(res.text()).to.equal('fine');
      expect(res.headers['x-split-name']).to.equal('first half, second half');
      expect((await p.get('/next')).text()).to.equal('fine /next');
    });

    it('a header section over maxHeaderSize, in several packets: ParseError HPE_HEADER_OVERFLOW', async () => {
      let p!: Client;
      let settled = false;
      let serverSocketGone = (): boolean => false;
      const stop = (): boolean => settled || serverSocketGone();
      const s = await scenario(async ({ socket, conn }) => {
        serverSocketGone = () => socket.destroyed;
        const base = readBefore(p, conn);
        await writeRead(p, socket, 'HTTP/1.1 200 OK\r\n', base);
        // 100-byte fields, each read on its own, until the client gives up on the head.
        for (let i = 0; i < 20 && !stop(); i++) await writeRead(p, socket, `X-Fill-${i}: ${'v'.repeat(90)}\r\n`, base, stop);
      }, { maxHeaderSize: 1024 });
      p = s.p;
      const err = await rejects(p.get('/bad').finally(() => (settled = true)), ParseError, 'HCP_PARSE');
      expect(err.parserCode).to.equal('HPE_HEADER_OVERFLOW');
      expect(err.phase).to.equal('headers');
      await s.next();
    });

    it('1,001 headers within maxHeaderSize: succeeds with every one of them', async () => {
      let lines = '';
      for (let i = 0; i < 1001; i++) lines += `x${i}: ${i}\r\n`;
      const { p, next } = await scenario(({ socket }) => void socket.write(reply('many', lines)));
      const res = await p.get('/bad');
      expect(res.text()).to.equal('many');
      expect(res.rawHeaders.length / 2).to.equal(1002);
      expect(res.headers['x1000']).to.equal('1000');
      await next(false);
    });

    it('4,000 headers (over the default maxHeaderSize): ParseError HPE_HEADER_OVERFLOW', async () => {
      // llhttp counts name and value bytes against the limit: 4,000 x 9 = 36,000 > 16,384.
      let lines = '';
      for (let i = 0; i < 4000; i++) lines += `h${String(i).padStart(4, '0')}: vvvv\r\n`;
      await parseFailure(reply('many', lines), ['HPE_HEADER_OVERFLOW']);
    });

    it('a duplicate Content-Length, even with equal values: ParseError HPE_UNEXPECTED_CONTENT_LENGTH', async () => {
      await parseFailure('HTTP/1.1 200 OK\r\ncontent-length: 4\r\nContent-Length: 4\r\n\r\nfine', ['HPE_UNEXPECTED_CONTENT_LENGTH']);
    });

    it('Content-Length with Transfer-Encoding: chunked: ParseError (request smuggling shape)', async () => {
      await parseFailure(
        'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n4\r\nfine\r\n0\r\n\r\n',
        ['HPE_UNEXPECTED_CONTENT_LENGTH', 'HPE_INVALID_TRANSFER_ENCODING', 'HPE_INVALID_CONTENT_LENGTH'],
      );
    });

    it('Content-Length larger than the data, then close: SocketError in phase body, never a short body', async () => {
      const { p, next } = await scenario(({ socket }) => void socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'));
      const err = await rejects(p.get('/bad'), SocketError, 'HCP_SOCKET');
      expect(err.phase).to.equal('body');
      await next();
    });

    it('Content-Length above 2^32, declared and not sent: nothing is allocated for it; the close is a SocketError', async () => {
      // Decision: a declared length is never trusted for allocation (Pool preallocates only
      // up to 64 MiB); the body is read as it comes, so the request stays cheap until the
      // server closes, which is then a clean SocketError (body cut short).
      let p!: Client;
      let inFlightGrowth = -1;
      const s = await scenario(async ({ socket, conn }) => {
        const base = readBefore(p, conn);
        const before = process.memoryUsage().arrayBuffers;
        await writeRead(p, socket, `HTTP/1.1 200 OK\r\ncontent-length: ${2 ** 32 + 5}\r\n\r\n`, base);
        await writeRead(p, socket, Buffer.alloc(4096, 0x61), base);
        inFlightGrowth = process.memoryUsage().arrayBuffers - before;
        socket.end();
      }, { maxResponseSize: Infinity });
      p = s.p;
      const err = await rejects(p.get('/bad'), SocketError, 'HCP_SOCKET');
      expect(err.phase).to.equal('body');
      expect(inFlightGrowth).to.be.within(-Infinity, 32 * 1024 * 1024);
      await s.next();
    });

    it('extra bytes after a Content-Length body: the response stands, the socket is dropped', async () => {
      const { p, next, conns } = await scenario(({ socket }) => void socket.write(reply('exact') + 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nEVIL'));
      const res = await p.get('/bad');
      expect(res.text()).to.equal('exact');
      await conns[0]!.closed; // the client dropped it
      await next();
    });

    it('a chunked body cut before the last chunk: SocketError in phase body', async () => {
      const { p, next } = await scenario(({ socket }) => void socket.end('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\nfine\r\n'));
      const err = await rejects(p.get('/bad'), SocketError, 'HCP_SOCKET');
      expect(err.phase).to.equal('body');
      await next();
    });

    it('an invalid chunk size: ParseError HPE_INVALID_CHUNK_SIZE in phase body', async () => {
      const err = await parseFailure('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\nfine\r\n-1\r\n', ['HPE_INVALID_CHUNK_SIZE']);
      expect(err.phase).to.equal('body');
    });

    it('a chunked heartbeat trickled over longer than responseHeaderTimeout and idleConnTimeout: succeeds', async () => {
      const beats = 12;
      const { p, next } = await scenario(
        ({ socket }) => {
          socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
          let n = 0;
          const t = setInterval(() => {
            if (socket.destroyed) return clearInterval(t);
            if (++n <= beats) return void socket.write('1\r\n.\r\n');
            clearInterval(t);
            socket.write('0\r\n\r\n');
          }, 25);
          defer(() => clearInterval(t));
        },
        { responseHeaderTimeout: 60, idleConnTimeout: 60 },
      );
      const res = await p.get('/bad');
      expect(res.text()).to.equal('.'.repeat(beats));
      await next(false);
    });

    it('a close-delimited body: succeeds whole; the next request goes over a new connection', async () => {
      const body = 'x'.repeat(50_000);
      const { p, next } = await scenario(({ socket }) => void socket.end(`HTTP/1.1 200 OK\r\n\r\n${body}`));
      const res = await p.get('/bad');
      expect(res.body.length).to.equal(body.length);
      await next();
    });

    it('the server closes after each response without Connection: close: every GET succeeds', async () => {
      // Answers, then closes the socket (FIN), with no Connection: close header.
      const s = await faultServer(() => {}, undefined, (socket: net.Socket) => {
        let buffered = '';
        socket.on('data', (d: Buffer) => {
          buffered += d.toString('latin1');
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const path = buffered.split(' ')[1]!;
          buffered = '';
          socket.end(reply(`fine ${path}`));
        });
      });
      const p = backend.pool({ baseURL: s.url, size: 2, requestTimeout: GUARD_MS });
      for (let i = 0; i < 20; i++) expect((await p.get(`/s${i}`)).text()).to.equal(`fine /s${i}`);
      const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => p.get(`/c${i}`)));
      expect(burst.map((r) => r.text())).to.deep.equal(Array.from({ length: 20 }, (_, i) => `fine /c${i}`));
    });

    it('RST in the middle of the headers: SocketError in phase headers (ECONNRESET)', async () => {
      let p!: Client;
      const s = await scenario(async ({ socket, conn }) => {
        await writeRead(p, socket, 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\nX-Half: ', readBefore(p, conn));
        socket.resetAndDestroy();
      });
      p = s.p;
      const err = await rejects(p.get('/bad'), SocketError, 'HCP_SOCKET');
      expect(err.phase).to.equal('headers');
      expect(causeCode(err)).to.equal('ECONNRESET');
      await s.next();
    });

    it('RST in the middle of the body: SocketError in phase body (ECONNRESET)', async () => {
      let p!: Client;
      const s = await scenario(async ({ socket, conn }) => {
        await writeRead(p, socket, 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nsome of it', readBefore(p, conn));
        socket.resetAndDestroy();
      });
      p = s.p;
      const err = await rejects(p.get('/bad'), SocketError, 'HCP_SOCKET');
      expect(err.phase).to.equal('body');
      expect(causeCode(err)).to.equal('ECONNRESET');
      await s.next();
    });

    it('unsolicited bytes on an idle socket are never read as the next response: the socket is dropped', async () => {
      const s = await faultServer(({ socket }) => {
        socket.write(reply('first'));
        // After the response: a whole second response nobody asked for.
        setImmediate(() => socket.write(reply('EVIL')));
      });
      const p = backend.pool({ baseURL: s.url, size: 1, requestTimeout: GUARD_MS });
      expect((await p.get('/bad')).text()).to.equal('first');
      await s.conns[0]!.closed; // the client read the bytes and closed that socket
      const res = await p.get('/next');
      expect(res.text()).to.equal('fine /next');
      expect(s.seen).to.deep.equal(['/bad@0', '/next@1']);
    });

    if (backend.name === 'Pool') {
      // Pool only: it dials eagerly, so a socket exists with no request on it, and bytes on it
      // can only be a response to nothing. NodePool opens a socket only for a request and
      // writes it at once: bytes arriving then are indistinguishable from its answer.
      it('a response written on connect, before any request: the socket is dropped, the request gets its own answer', async () => {
        const s = await faultServer(() => {}, (conn) => {
          if (conn.index === 0) conn.socket.write(reply('EARLY'));
        });
        const p = backend.pool({ baseURL: s.url, size: 1, requestTimeout: GUARD_MS });
        if (s.conns.length === 0) await new Promise((r) => s.server.once('connection', r));
        await s.conns[0]!.closed;
        const res = await p.get('/next');
        expect(res.text()).to.equal('fine /next');
        expect(s.seen).to.deep.equal(['/next@1']);
      });
    }

    it('a 100 Continue nobody asked for, then the response: resolves with the 200', async () => {
      const { p, next } = await scenario(({ socket }) => void socket.write('HTTP/1.1 100 Continue\r\n\r\n' + reply('after 100')));
      const res = await p.get('/bad');
      expect([res.statusCode, res.text()]).to.deep.equal([200, 'after 100']);
      await next(false);
    });

    for (const [label, interim, later] of [
      ['100 Continue with Connection: close, then a 200 in the same write', 'HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n', false],
      ['100 Continue with Connection: close, then a 200 in a later write', 'HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n', true],
      ['an HTTP/1.0 100, then a 200', 'HTTP/1.0 100 Continue\r\n\r\n', false],
    ] as const) {
      it(`${label}, then EOF: ParseError HPE_CLOSED_CONNECTION, and the request is sent once`, async () => {
        const { p, next, seen } = await scenario(({ socket }) => {
          if (!later) return void socket.end(interim + reply('after'));
          socket.write(interim, () => setImmediate(() => socket.end(reply('after'))));
        });
        for (const method of ['GET', 'POST']) {
          const err = await rejects(p.request({ method, path: '/bad' }), ParseError, 'HCP_PARSE');
          expect(err.parserCode).to.equal('HPE_CLOSED_CONNECTION');
          expect(err.message).to.not.match(/pipelin/);
          expect(seen.filter((x) => x.startsWith('/bad'))).to.have.length(method === 'GET' ? 1 : 2);
        }
        await next();
      });
    }

    it('an unsolicited 101 with Upgrade: UpgradeError HCP_UPGRADE', async () => {
      const { p, next } = await scenario(({ socket }) => void socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n\x00\x00\x12\x04'));
      const err = await rejects(p.get('/bad'), UpgradeError, 'HCP_UPGRADE');
      expect(err.phase).to.equal('headers');
      await next();
    });

    it('an unsolicited bare 101 (no Upgrade header): UpgradeError HCP_UPGRADE', async () => {
      const { p, next } = await scenario(({ socket }) => void socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n'));
      await rejects(p.get('/bad'), UpgradeError, 'HCP_UPGRADE');
      await next();
    });

    it('103 Early Hints then 200: resolves with the 200, without the hints\' headers', async () => {
      const { p, next } = await scenario(({ socket }) =>
        void socket.write('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n' + reply('after 103')),
      );
      const res = await p.get('/bad');
      expect([res.statusCode, res.text(), res.headers['link']]).to.deep.equal([200, 'after 103', undefined]);
      await next(false);
    });

    it('a close-delimited body bigger than maxResponseSize: ResponseTooLargeError in phase body', async () => {
      const { p, next } = await scenario(({ socket }) => void socket.end(`HTTP/1.1 200 OK\r\n\r\n${'z'.repeat(5000)}`), { maxResponseSize: 4096 });
      const err = await rejects(p.get('/bad'), ResponseTooLargeError, 'HCP_RESPONSE_TOO_LARGE');
      expect(err.phase).to.equal('body');
      await next();
    });

    it('a response finished before the 8 MB request body was sent: resolves; the socket is dropped', async () => {
      const conns: net.Socket[] = [];
      const s = await faultServer(() => {}, undefined, (socket: net.Socket) => {
        conns.push(socket);
        let buffered = '';
        const onData = (d: Buffer): void => {
          buffered += d.toString('latin1');
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const path = buffered.split(' ')[1]!;
          if (path === '/upload') {
            // Only the head was read: answer and stop reading.
            socket.removeListener('data', onData);
            socket.pause();
            socket.write('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 8\r\n\r\ntoo big!');
          } else {
            buffered = buffered.slice(end + 4);
            socket.write(reply(`fine ${path}`));
          }
        };
        socket.on('data', onData);
      });
      const p = backend.pool({ baseURL: s.url, size: 1, requestTimeout: GUARD_MS });
      const res = await p.post('/upload', Buffer.alloc(8 * 1024 * 1024, 0x62));
      expect([res.statusCode, res.text()]).to.deep.equal([413, 'too big!']);
      expect((await p.get('/next')).text()).to.equal('fine /next');
      expect(conns).to.have.length(2);
    });
  });
}
