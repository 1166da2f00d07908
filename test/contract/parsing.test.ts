// Response parsing over sockets, for each backend, against byte-exact loopback
// servers: bodies over many packets, many and repeated headers, chunked bodies and
// trailers, 1xx interim responses, bodiless responses and keep-alive, close-delimited
// bodies, upgrades, malformed and truncated responses, and the size limits. The raw
// pool's ResponseParser on its own is tested in test/unit/response-parser.test.ts.
import type * as net from 'node:net';
import { expect } from 'chai';
import {
  SocketError,
  HttpClientPoolError,
  ParseError,
  ResponseTooLargeError,
  UpgradeError,
  type Client,
} from '../../dist/index.js';
import { cleanup, pathOf, rawServer, rejects, reply, serverConnections, writeRead, type ServerConn } from '../helpers.js';
import { BACKENDS } from './backends.js';
import { chunked, headerLines, headerPairs, pattern } from '../wire.js';

// ---- local helpers

/** Writes `pieces` one at a time, each only after the client has read everything before it. */
async function writeInPieces(p: Client, socket: net.Socket, pieces: (string | Buffer)[]): Promise<void> {
  for (const piece of pieces) await writeRead(p, socket, piece);
}

/** Splits `s` into pieces of `n` characters. */
function slices(s: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n));
  return out;
}


for (const backend of BACKENDS) {
  describe(`${backend.name}: parsing: responses over sockets`, () => {
    afterEach(cleanup);

    describe('bodies', () => {
      it('a Content-Length body written in many pieces, each read separately, arrives whole', async () => {
        const body = 'The quick brown fox jumps over the lazy dog.'.repeat(5);
        const pieces = ['HTTP/1.1 200 OK\r\n', `content-length: ${body.length}\r\n\r\n`, ...slices(body, 17)];
        let p!: Client;
        const { url } = await rawServer((socket) => void writeInPieces(p, socket, pieces));
        p = backend.pool({ baseURL: url, size: 1 });
        const res = await p.get('/');
        expect(res.text()).to.equal(body);
        expect(res.body.length).to.equal(body.length);
      });

      it('a large Content-Length body written in pieces, each read separately, arrives whole, and the socket serves the next request', async () => {
        // Pieces of every kind: one byte, less and more than a read buffer, a head with
        // the body's first byte. Pool reads plain sockets straight into the body buffer.
        const body = pattern(300_000);
        const head = `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`;
        const cuts = [0, 1, 20_001, 20_002, 120_000, 120_001, body.length];
        const pieces: (string | Buffer)[] = [Buffer.concat([Buffer.from(head), body.subarray(0, 1)])];
        for (let i = 1; i + 1 < cuts.length; i++) pieces.push(body.subarray(cuts[i], cuts[i + 1]));
        let p!: Client;
        const { url, server } = await rawServer((socket, h) => {
          if (pathOf(h) === '/big') void writeInPieces(p, socket, pieces);
          else socket.write(reply('next'));
        });
        const conns = serverConnections(server);
        p = backend.pool({ baseURL: url, size: 1 });
        const res = await p.get('/big');
        expect(res.body.equals(body)).to.equal(true);
        expect((await p.get('/next')).text()).to.equal('next');
        expect(conns.length).to.equal(1);
      });

      it('a 1 MiB Content-Length body is intact', async () => {
        const body = pattern(1 << 20);
        const { url } = await rawServer((socket) => {
          socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
          socket.write(body);
        });
        const p = backend.pool({ baseURL: url, size: 1 });
        const res = await p.get('/');
        expect(res.body.length).to.equal(body.length);
        expect(res.body.equals(body)).to.equal(true);
      });

      it('a 1 MiB chunked body is intact', async () => {
        const body = pattern(1 << 20);
        const { url } = await rawServer((socket) => {
          socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
          socket.write(chunked(body, 50_000));
        });
        const p = backend.pool({ baseURL: url, size: 1 });
        const res = await p.get('/');
        expect(res.body.equals(body)).to.equal(true);
      });

      it('a close-delimited body is returned whole, and the next request goes over a new connection', async () => {
        const seen: string[] = [];
        const { url, server } = await rawServer((socket, head, index) => {
          seen.push(`${pathOf(head)}#${index}`);
          if (pathOf(head) === '/eof') {
            socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nfirst part, ');
            socket.end('second part');
          } else {
            socket.write(reply('next'));
          }
        });
        const conns = serverConnections(server);
        const p = backend.pool({ baseURL: url, size: 1 });
        const res = await p.get('/eof');
        expect(res.text()).to.equal('first part, second part');
        expect((await p.get('/next')).text()).to.equal('next');
        expect(seen).to.deep.equal(['/eof#0', '/next#0']);
        expect(conns.length).to.equal(2);
      });
    });

    describe('headers', () => {
      it('50 headers all show in rawHeaders and headers', async () => {
        const { url } = await rawServer((socket) => socket.write(`HTTP/1.1 200 Fine\r\n${headerLines(50)}content-length: 2\r\n\r\nok`));
        const p = backend.pool({ baseURL: url, size: 1 });
        const res = await p.get('/');
        expect(res.statusMessage).to.equal('Fine');
        expect(res.rawHeaders).to.deep.equal([...headerPairs(50), 'content-length', '2']);
        for (let i = 0; i < 50; i++) expect(res.headers[`x-h${i}`]).to.equal(`v${i}`);
        expect(res.text()).to.equal('ok');
      });

      it('a head of 60 headers written in pieces, read separately', async () => {
        const whole = `HTTP/1.1 200 OK\r\n${headerLines(60)}content-length: 2\r\n\r\nok`;
        let p!: Client;
        const { url } = await rawServer((socket) => void writeInPieces(p, socket, slices(whole, 100)));
        p = backend.pool({ baseURL: url, size: 1 });
        const res = await p.get('/');
        expect(res.rawHeaders).to.deep.equal([...headerPairs(60), 'content-length', '2']);
        expect(res.text()).to.equal('ok');
      });

      it('repeated names become arrays in headers; rawHeaders keep order and case', async () => {
        const { url } = await rawServer((socket) =>
          socket.write('HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Request-ID: r\r\nset-cookie: b=2\r\nContent-Length: 0\r\n\r\n'),
        );
        const p = backend.pool({ baseURL: url, size: 1 });
        const res = await p.get('/');
        expect(res.rawHeaders).to.deep.equal(['Set-Cookie', 'a=1', 'X-Request-ID', 'r', 'set-cookie', 'b=2', 'Content-Length', '0']);
        expect(res.headers['set-cookie']).to.deep.equal(['a=1', 'b=2']);
        expect(res.headers['x-request-id']).to.equal('r');
        expect(res.headers['X-Request-ID']).to.equal(undefined);
      });
    });

    describe('chunked', () => {
      it('with trailers: trailers and rawTrailers', async () => {
        const { url } = await rawServer((socket) =>
          socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Digest\r\n\r\n4\r\nwiki\r\n5\r\npedia\r\n0\r\nX-Digest: abc\r\nX-Count: 2\r\n\r\n'),
        );
        const p = backend.pool({ baseURL: url, size: 1 });
        const res = await p.get('/');
        expect(res.text()).to.equal('wikipedia');
        expect(res.rawTrailers).to.deep.equal(['X-Digest', 'abc', 'X-Count', '2']);
        expect({ ...res.trailers }).to.deep.equal({ 'x-digest': 'abc', 'x-count': '2' });
      });

      it('without trailers, over one kept-alive socket twice', async () => {
        const seen: number[] = [];
        const { url } = await rawServer((socket, _head, index) => {
          seen.push(index);
          socket.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab${index}\r\n0\r\n\r\n`);
        });
        const p = backend.pool({ baseURL: url, size: 1 });
        const a = await p.get('/');
        const b = await p.get('/');
        expect([a.text(), b.text()]).to.deep.equal(['ab0', 'ab1']);
        expect(a.rawTrailers).to.deep.equal([]);
        expect(seen).to.deep.equal([0, 1]);
      });

      it('chunks split across packets, mid-size-line and mid-data', async () => {
        const body = pattern(500);
        const whole = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'), chunked(body, 64, 'X-T: done\r\n')]);
        const pieces: Buffer[] = [];
        for (let i = 0; i < whole.length; i += 37) pieces.push(whole.subarray(i, i + 37));
        let p!: Client;
        const { url } = await rawServer((socket) => void writeInPieces(p, socket, pieces));
        p = backend.pool({ baseURL: url, size: 1 });
        const res = await p.get('/');
        expect(res.body.equals(body)).to.equal(true);
        expect(res.trailers['x-t']).to.equal('done');
      });
    });

    describe('1xx interim responses', () => {
      const cases: [string, string[]][] = [
        ['100 Continue then 200 in one packet', ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfinal']],
        ['100 Continue then 200 in separate packets', ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfinal']],
        [
          '103 Early Hints with Link headers then 200 in one packet',
          ['HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\nLink: </a.js>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfinal'],
        ],
        [
          '103 Early Hints with Link headers then 200 in separate packets',
          ['HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n', 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfinal'],
        ],
      ];
      for (const [what, pieces] of cases) {
        it(`${what}: resolves with the 200, and the socket is reused`, async () => {
          const seen: number[] = [];
          let p!: Client;
          const { url, server } = await rawServer((socket, _head, index) => {
            seen.push(index);
            if (index === 0) void writeInPieces(p, socket, pieces);
            else socket.write(reply('again'));
          });
          const conns = serverConnections(server);
          p = backend.pool({ baseURL: url, size: 1 });
          const res = await p.get('/');
          expect(res.statusCode).to.equal(200);
          expect(res.statusMessage).to.equal('OK');
          expect(res.rawHeaders).to.deep.equal(['content-length', '5']);
          expect(res.text()).to.equal('final');
          expect((await p.get('/')).text()).to.equal('again');
          expect(seen).to.deep.equal([0, 1]);
          expect(conns.length).to.equal(1);
        });
      }
    });

    describe('bodiless responses and keep-alive', () => {
      it('HEAD with Content-Length: 10 and no body resolves empty, and the socket is reused', async () => {
        const seen: string[] = [];
        const { url, server } = await rawServer((socket, head, index) => {
          seen.push(`${head.split(' ')[0]}#${index}`);
          socket.write(head.startsWith('HEAD') ? 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n' : reply('0123456789'));
        });
        const conns = serverConnections(server);
        const p = backend.pool({ baseURL: url, size: 1 });
        const res = await p.request({ method: 'HEAD', path: '/' });
        expect(res.statusCode).to.equal(200);
        expect(res.headers['content-length']).to.equal('10');
        expect(res.body.length).to.equal(0);
        // Had the client waited for 10 body bytes, it would read this response as the HEAD's body.
        expect((await p.get('/')).text()).to.equal('0123456789');
        expect(seen).to.deep.equal(['HEAD#0', 'GET#1']);
        expect(conns.length).to.equal(1);
      });

      for (const status of ['204 No Content', '304 Not Modified']) {
        it(`${status} without a body resolves, and the socket is reused`, async () => {
          const seen: number[] = [];
          const { url, server } = await rawServer((socket, _head, index) => {
            seen.push(index);
            socket.write(index === 0 ? `HTTP/1.1 ${status}\r\nETag: "v1"\r\n\r\n` : reply('next'));
          });
          const conns = serverConnections(server);
          const p = backend.pool({ baseURL: url, size: 1 });
          const res = await p.get('/');
          expect(res.statusCode).to.equal(Number(status.slice(0, 3)));
          expect(res.body.length).to.equal(0);
          expect((await p.get('/')).text()).to.equal('next');
          expect(seen).to.deep.equal([0, 1]);
          expect(conns.length).to.equal(1);
        });
      }

      it('HEAD with no Content-Length and no Transfer-Encoding: the socket is reused too', async () => {
        const seen: string[] = [];
        const { url, server } = await rawServer((socket, head, index) => {
          seen.push(`${head.split(' ')[0]}#${index}`);
          socket.write(head.startsWith('HEAD') ? 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n' : reply('next'));
        });
        const conns = serverConnections(server);
        const p = backend.pool({ baseURL: url, size: 1 });
        const res = await p.request({ method: 'HEAD', path: '/' });
        expect([res.statusCode, res.body.length]).to.deep.equal([200, 0]);
        expect((await p.get('/')).text()).to.equal('next');
        expect(seen).to.deep.equal(['HEAD#0', 'GET#1']);
        expect(conns.length).to.equal(1);
      });

      const closing: [string, string][] = [
        ['Connection: close', 'HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\nok'],
        ['an HTTP/1.0 response', 'HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok'],
        ['Keep-Alive: timeout=1 (less than the 1 s margin)', 'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\ncontent-length: 2\r\n\r\nok'],
      ];
      for (const [what, response] of closing) {
        it(`${what}: succeeds, and the next request goes over a new connection`, async () => {
          const seen: string[] = [];
          // The server keeps its end open: the client alone must decide not to reuse the socket.
          const { url, server } = await rawServer((socket, head, index) => {
            seen.push(`${pathOf(head)}#${index}`);
            socket.write(pathOf(head) === '/first' ? response : reply('second'));
          });
          const conns = serverConnections(server);
          const p = backend.pool({ baseURL: url, size: 1 });
          expect((await p.get('/first')).text()).to.equal('ok');
          expect((await p.get('/second')).text()).to.equal('second');
          expect(seen).to.deep.equal(['/first#0', '/second#0']);
          expect(conns.length).to.equal(2);
        });
      }

      const keeping: [string, string][] = [
        ['HTTP/1.0 with Connection: keep-alive', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\ncontent-length: 2\r\n\r\nok'],
        ['Keep-Alive: timeout=30', 'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=30\r\ncontent-length: 2\r\n\r\nok'],
      ];
      for (const [what, response] of keeping) {
        it(`${what}: the socket is reused`, async () => {
          const seen: string[] = [];
          const { url, server } = await rawServer((socket, head, index) => {
            seen.push(`${pathOf(head)}#${index}`);
            socket.write(pathOf(head) === '/first' ? response : reply('second'));
          });
          const conns = serverConnections(server);
          const p = backend.pool({ baseURL: url, size: 1 });
          const first = await p.get('/first');
          expect(first.text()).to.equal('ok');
          expect((await p.get('/second')).text()).to.equal('second');
          expect(seen).to.deep.equal(['/first#0', '/second#1']);
          expect(conns.length).to.equal(1);
        });
      }

      it('bytes after a complete response are not read as the next response: the socket is dropped', async () => {
        const seen: string[] = [];
        const { url, server } = await rawServer((socket, head, index) => {
          seen.push(`${pathOf(head)}#${index}`);
          if (pathOf(head) === '/extra') socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale');
          else socket.write(reply('fresh'));
        });
        const conns = serverConnections(server);
        const p = backend.pool({ baseURL: url, size: 1 });
        expect((await p.get('/extra')).text()).to.equal('ok');
        expect((await p.get('/next')).text()).to.equal('fresh');
        expect(seen).to.deep.equal(['/extra#0', '/next#0']);
        expect(conns.length).to.equal(2);
      });
    });

    describe('errors, and the pool serving the next request afterwards', () => {
      /**
       * A server that answers `/bad` with `bad` (a string, or a function writing to the socket)
       * and anything else with a good response; returns what the next request saw.
       */
      async function afterError(
        bad: string | ((socket: net.Socket) => void),
        options: { maxResponseSize?: number; maxHeaderSize?: number } = {},
      ): Promise<{ p: Client; port: number; seen: string[]; conns: ServerConn[]; next: () => Promise<void> }> {
        const seen: string[] = [];
        const { url, server, port } = await rawServer((socket, head, index) => {
          seen.push(`${pathOf(head)}#${index}`);
          if (pathOf(head) !== '/bad') socket.write(reply('fine'));
          else if (typeof bad === 'string') socket.write(bad);
          else bad(socket);
        });
        const conns = serverConnections(server);
        const p = backend.pool({ baseURL: url, size: 1, ...options });
        return {
          p,
          port,
          seen,
          conns,
          // The slot dropped the bad socket: the next request is the first on a new connection.
          next: async () => {
            expect((await p.get('/next')).text()).to.equal('fine');
            expect(seen).to.deep.equal(['/bad#0', '/next#0']);
            expect(conns.length).to.equal(2);
          },
        };
      }

      const malformed: [string, string, string[]][] = [
        ['a bad status line', 'HTTP/1.1 abc OK\r\n\r\n', ['HPE_INVALID_STATUS']],
        ['garbage bytes', 'NOT HTTP AT ALL\r\n\r\n', ['HPE_INVALID_CONSTANT']],
        ['an invalid chunk size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', ['HPE_INVALID_CHUNK_SIZE']],
        ['conflicting Content-Lengths', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok', ['HPE_UNEXPECTED_CONTENT_LENGTH']],
        [
          'Content-Length and Transfer-Encoding both',
          'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
          ['HPE_INVALID_TRANSFER_ENCODING', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
        ],
        ['a header name with a space', 'HTTP/1.1 200 OK\r\nBad Name: x\r\ncontent-length: 0\r\n\r\n', ['HPE_INVALID_HEADER_TOKEN']],
      ];
      for (const [what, response, codes] of malformed) {
        it(`${what}: ParseError HCP_PARSE with ${codes[0]}`, async () => {
          const { p, next } = await afterError(response);
          const err = await rejects(p.get('/bad'), ParseError, 'HCP_PARSE');
          expect(err.parserCode).to.match(/^HPE_/);
          expect(err.parserCode).to.be.oneOf(codes);
          await next();
        });
      }

      it('a ParseError in the body carries origin, socketId and phase', async () => {
        const { p, port, next } = await afterError('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\nxyz\r\n');
        const err = await rejects(p.get('/bad'), ParseError, 'HCP_PARSE');
        expect(err.parserCode).to.equal('HPE_INVALID_CHUNK_SIZE');
        expect(err.origin).to.equal(`http://127.0.0.1:${port}`);
        expect(err.socketId).to.equal(0);
        expect(err.phase).to.equal('body');
        expect(err).to.be.instanceOf(HttpClientPoolError);
        await next();
      });

      it('101 Switching Protocols: UpgradeError HCP_UPGRADE', async () => {
        const { p, port, next } = await afterError('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
        const err = await rejects(p.get('/bad'), UpgradeError, 'HCP_UPGRADE');
        expect([err.origin, err.socketId, err.phase]).to.deep.equal([`http://127.0.0.1:${port}`, 0, 'headers']);
        await next();
      });

      it('a Content-Length body cut short by the server closing: SocketError, never a short body', async () => {
        const { p, next } = await afterError((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this'));
        const err = await rejects(p.get('/bad'), SocketError, 'HCP_SOCKET');
        // llhttp's verdict stays available as the cause.
        expect((err.cause as ParseError).parserCode).to.equal('HPE_INVALID_EOF_STATE');
        expect(err.phase).to.equal('body');
        await next();
      });

      it('a chunked body cut before the last chunk: the same', async () => {
        const { p, next } = await afterError((socket) => socket.end('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nwor'));
        const err = await rejects(p.get('/bad'), SocketError, 'HCP_SOCKET');
        expect((err.cause as ParseError).parserCode).to.equal('HPE_INVALID_EOF_STATE');
        await next();
      });

      it('maxResponseSize: a declared Content-Length above it is ResponseTooLargeError', async () => {
        const { p, next } = await afterError('HTTP/1.1 200 OK\r\ncontent-length: 101\r\n\r\n', { maxResponseSize: 100 });
        const err = await rejects(p.get('/bad'), ResponseTooLargeError, 'HCP_RESPONSE_TOO_LARGE');
        expect(err.phase).to.equal('body');
        await next();
      });

      it('maxResponseSize: a chunked body growing past it is ResponseTooLargeError', async () => {
        const { p, next } = await afterError(
          (socket) => void socket.write(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'), chunked(pattern(101), 30)])),
          { maxResponseSize: 100 },
        );
        await rejects(p.get('/bad'), ResponseTooLargeError, 'HCP_RESPONSE_TOO_LARGE');
        await next();
      });

      it('maxResponseSize: bodies of exactly the limit pass', async () => {
        const body = pattern(100);
        const { url } = await rawServer((socket, head) => {
          if (pathOf(head) === '/cl') socket.write(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n'), body]));
          else socket.write(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'), chunked(body, 30)]));
        });
        const p = backend.pool({ baseURL: url, size: 1, maxResponseSize: 100 });
        expect((await p.get('/cl')).body.equals(body)).to.equal(true);
        expect((await p.get('/chunked')).body.equals(body)).to.equal(true);
      });

      it('maxHeaderSize exceeded: ParseError HPE_HEADER_OVERFLOW', async () => {
        const { p, next } = await afterError(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(600)}\r\ncontent-length: 0\r\n\r\n`, { maxHeaderSize: 512 });
        const err = await rejects(p.get('/bad'), ParseError, 'HCP_PARSE');
        expect(err.parserCode).to.equal('HPE_HEADER_OVERFLOW');
        await next();
      });

      it('maxResponseSize does not apply to HEAD responses and 304s, which have no body', async () => {
        const seen: number[] = [];
        const { url } = await rawServer((socket, head, index) => {
          seen.push(index);
          if (head.startsWith('HEAD')) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n');
          else if (pathOf(head) === '/304') socket.write('HTTP/1.1 304 Not Modified\r\ncontent-length: 5000\r\n\r\n');
          else socket.write(reply('fine'));
        });
        const p = backend.pool({ baseURL: url, size: 1, maxResponseSize: 100 });
        const head = await p.request({ method: 'HEAD', path: '/' });
        expect([head.statusCode, head.body.length]).to.deep.equal([200, 0]);
        expect((await p.get('/304')).statusCode).to.equal(304);
        expect((await p.get('/')).text()).to.equal('fine');
        expect(seen).to.deep.equal([0, 1, 2]);
      });
    });
  });
}
