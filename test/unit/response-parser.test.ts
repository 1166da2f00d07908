// ResponseParser on its own: bytes in, one response out, no sockets. Pool-only: it
// tests the raw pool's parser directly (NodePool parses inside node:http). The same
// behaviours over sockets, for both backends, are in test/contract/parsing.test.ts.
import { expect } from 'chai';
import { ParseError, ResponseTooLargeError, UpgradeError, type Response } from '../../dist/index.js';
import { httpParser } from '../../dist/parser/binding.js';
import { ResponseParser } from '../../dist/parser/response.js';
import { keepAliveTimeout } from '../../dist/keep-alive.js';
import { cleanup, defer } from '../helpers.js';
import { chunked, headerLines, headerPairs, pattern } from '../wire.js';

// ---- local helpers

interface ParseOptions {
  bodiless?: boolean;
  maxHeaderSize?: number;
  maxResponseSize?: number;
  /** Call eof() after the last feed. */
  eof?: boolean;
}

/** A fresh parser, closed after the test. */
function parser(maxHeaderSize = 16_384, maxResponseSize = Infinity): ResponseParser {
  const p = new ResponseParser(maxHeaderSize, maxResponseSize);
  defer(() => p.close());
  return p;
}

/** A new stream carrying one exchange, as a slot starts a new socket with its first request. */
function start(p: ResponseParser, bodiless = false): void {
  p.reset();
  p.expect(bodiless);
}

/** The oldest completed response not yet taken, or null. */
function response(p: ResponseParser): Response | null {
  return p.done.length === 0 ? null : p.done.at(0);
}

/** Feeds `parts` (latin1 strings or Buffers) to a fresh parser for one exchange. */
function parse(parts: (string | Buffer)[], o: ParseOptions = {}): ResponseParser {
  const p = parser(o.maxHeaderSize, o.maxResponseSize);
  start(p, o.bodiless ?? false);
  for (const part of parts) p.feed(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
  if (o.eof === true) p.eof();
  return p;
}


/** Counts llhttp's body callbacks on `p` (the binding copies each body piece it hands over). */
function countBodyCallbacks(p: ResponseParser): { n: number } {
  const native = (p as unknown as { native: Record<number, (b: Buffer) => void> }).native;
  const onBody = native[httpParser().kOnBody]!;
  const calls = { n: 0 };
  native[httpParser().kOnBody] = (b: Buffer) => {
    calls.n++;
    onBody(b);
  };
  return calls;
}

// ---- ResponseParser, no sockets

describe('parsing: ResponseParser', () => {
  afterEach(cleanup);

  describe('bodies', () => {
    it('a Content-Length body is framed beside llhttp: its body callback never runs, and the body owns its bytes', () => {
      const p = parser();
      start(p);
      const calls = countBodyCallbacks(p);
      const input = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello world');
      p.feed(input);
      expect(calls.n).to.equal(0);
      input.fill(0); // the caller reuses its read buffer
      expect(response(p)!.body.toString()).to.equal('hello world');
    });

    it('a chunked body is left to llhttp and its body callback', () => {
      const p = parser();
      start(p);
      const calls = countBodyCallbacks(p);
      p.feed(Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'));
      expect(calls.n).to.equal(1);
      expect(response(p)!.body.toString()).to.equal('hello');
    });

    it('a Content-Length body split over feeds is assembled into one buffer of exactly that length', () => {
      const body = pattern(3000);
      const head = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
      const p = parse([Buffer.concat([head, body.subarray(0, 1)]), body.subarray(1, 1500), body.subarray(1500)]);
      expect(p.error).to.equal(null);
      const got = response(p)!.body;
      expect(got.length).to.equal(body.length);
      expect(got.equals(body)).to.equal(true);
    });

    it('parses the same response at every split point of the input, body and headers alike', () => {
      const whole =
        'HTTP/1.1 200 OK\r\nX-A: 1\r\ntransfer-encoding: chunked\r\n\r\n' +
        '3\r\nabc\r\n4\r\ndefg\r\n0\r\nX-T: t\r\n\r\n';
      const cl = 'HTTP/1.1 201 Created\r\ncontent-length: 7\r\nX-B: 2\r\n\r\nabcdefg';
      for (const input of [whole, cl]) {
        const want = response(parse([input]))!;
        for (let i = 1; i < input.length; i++) {
          const p = parse([input.slice(0, i), input.slice(i)]);
          expect(p.error, `split at ${i}`).to.equal(null);
          const r = response(p)!;
          expect(r, `split at ${i}`).to.not.equal(null);
          expect([r.statusCode, r.statusMessage, r.rawHeaders, r.rawTrailers, r.text()], `split at ${i}`).to.deep.equal([
            want.statusCode,
            want.statusMessage,
            want.rawHeaders,
            want.rawTrailers,
            want.text(),
          ]);
        }
      }
    });

    it('a stream of mixed responses (lengths, chunked, interim, HEAD, 204) parses the same at every pair of split points', () => {
      // Heads framed by blank lines that straddle reads, bodies that contain blank lines,
      // and llhttp-framed bodies next to ones framed beside it.
      const parts: [string, boolean][] = [
        ['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n\r\n\r\nab\r\n\r\n', false],
        ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n\r\n\r\n\r\n0\r\n\r\n', false],
        ['HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n', true],
        ['HTTP/1.1 204 No Content\r\n\r\n', false],
        ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz', false],
      ];
      const input = parts.map(([text]) => text).join('');
      const run = (pieces: string[]): string[] => {
        const p = parser();
        p.reset();
        for (const [, bodiless] of parts) p.expect(bodiless);
        for (const piece of pieces) p.feed(Buffer.from(piece, 'latin1'));
        expect(p.error).to.equal(null);
        expect(p.unasked).to.equal(false);
        return p.done.takeAll().map((r) => `${r.statusCode} ${JSON.stringify(r.text())}`);
      };
      const want = run([input]);
      expect(want).to.deep.equal(['200 "\\r\\n\\r\\nab\\r\\n\\r\\n"', '200 "\\r\\n\\r\\n"', '200 ""', '204 ""', '200 "xyz"']);
      for (let i = 1; i < input.length; i++) {
        for (let j = i; j < input.length; j += 7) {
          expect(run([input.slice(0, i), input.slice(i, j), input.slice(j)]), `split at ${i}, ${j}`).to.deep.equal(want);
        }
      }
    });

    it('the start of a response nobody asked for, after a chunked one in the same read, sets `unasked`', () => {
      const p = parse(['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nX-A']);
      expect(response(p)!.text()).to.equal('ok');
      expect(p.unasked).to.equal(true);
    });

    it('responseBegun(): no byte, part of a status line, an interim response, part of a framed body', () => {
      const at = (parts: string[]): boolean => parse(parts).responseBegun();
      expect(at([])).to.equal(false);
      expect(at(['HTTP/1.1 2'])).to.equal(true);
      expect(at(['HTTP/1.1 100 Continue\r\n\r\n'])).to.equal(true);
      expect(at(['HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nab'])).to.equal(true);
      expect(at(['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok'])).to.equal(true);
      // After a complete response, nothing of the next one has come.
      const p = parser();
      p.reset();
      p.expect(false);
      p.expect(false);
      p.feed(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
      expect(p.done.length).to.equal(1);
      expect(p.responseBegun()).to.equal(false);
    });

    it('an interim response that closes the connection, then a final one: the request\'s own HPE_CLOSED_CONNECTION, not bytes nobody asked for', () => {
      for (const interim of ['HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n', 'HTTP/1.0 100 Continue\r\n\r\n']) {
        const p = parse([interim, 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok']);
        expect(p.unasked).to.equal(false);
        expect((p.error as ParseError).parserCode).to.equal('HPE_CLOSED_CONNECTION');
        expect(p.responseBegun()).to.equal(true);
      }
      // After a final response that closed it, the same error is about the next request's bytes.
      const p = parser();
      p.reset();
      p.expect(false);
      p.expect(false);
      p.feed(Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n', 'latin1'));
      expect([p.done.length, p.unasked, p.error]).to.deep.equal([1, true, null]);
      expect(p.responseBegun()).to.equal(true);
    });

    it('a framed body gets its buffer at its first byte, not on the word of the head alone', () => {
      const p = parser();
      start(p);
      const state = (p as unknown as { framed: { buffer: Buffer | null } }).framed;
      p.feed(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 50000000\r\n\r\n'));
      expect(state.buffer).to.equal(null);
      p.feed(Buffer.from('x'));
      expect(state.buffer!.length).to.equal(50_000_000);
    });

    it('bodyTarget()/bodyFilled(): the rest of a framed body can be read straight into the response body', () => {
      const p = parser();
      start(p);
      expect(p.bodyTarget(1)).to.equal(null);
      p.feed(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nab'));
      expect(p.bodyTarget(9)).to.equal(null); // only 8 bytes are missing
      const target = p.bodyTarget(8)!;
      expect(target.length).to.equal(8);
      target.write('cdef', 0, 'latin1');
      p.bodyFilled(4);
      expect(response(p)).to.equal(null);
      p.bodyTarget(1)!.write('ghij', 0, 'latin1');
      p.bodyFilled(4);
      expect(response(p)!.text()).to.equal('abcdefghij');
      expect(p.bodyTarget(1)).to.equal(null);
    });

    it('a close-delimited body completes only at eof(), with every byte', () => {
      const p = parse(['HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nhello', ' world']);
      expect(response(p)).to.equal(null);
      expect(p.error).to.equal(null);
      expect(p.eof()).to.equal(true);
      expect(response(p)!.text()).to.equal('hello world');
      expect(p.keepAlive).to.equal(false);
    });

    it('Content-Length: 0 gives an empty body at once', () => {
      const p = parse(['HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n']);
      expect(response(p)!.body.length).to.equal(0);
      expect(p.keepAlive).to.equal(true);
    });
  });

  describe('headers', () => {
    it('keeps all of more than 32 headers (llhttp flushes them in batches), with status line', () => {
      const p = parse([`HTTP/1.1 200 Fine\r\n${headerLines(50)}content-length: 2\r\n\r\nok`]);
      const r = response(p)!;
      expect(r.statusCode).to.equal(200);
      expect(r.statusMessage).to.equal('Fine');
      expect(r.rawHeaders).to.deep.equal([...headerPairs(50), 'content-length', '2']);
      expect(Object.keys(r.headers)).to.have.length(51);
      expect(r.headers['x-h49']).to.equal('v49');
      expect(r.text()).to.equal('ok');
    });

    it('more than 32 headers over several feeds, and more than 32 trailers', () => {
      const p = parse([
        `HTTP/1.1 200 OK\r\n${headerLines(20)}`,
        `${headerLines(30, 'Y-')}transfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n${headerLines(20, 'T')}`,
        `${headerLines(20, 'U')}\r\n`,
      ]);
      const r = response(p)!;
      expect(r.rawHeaders).to.deep.equal([...headerPairs(20), ...headerPairs(30, 'Y-'), 'transfer-encoding', 'chunked']);
      expect(r.rawTrailers).to.deep.equal([...headerPairs(20, 'T'), ...headerPairs(20, 'U')]);
      expect(r.text()).to.equal('ok');
    });

    it('keeps names as received in rawHeaders, lower-cases them in headers, and gathers repeats into arrays', () => {
      const p = parse([
        'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Mixed-Case: M\r\nset-cookie: b=2\r\nSET-COOKIE: c=3\r\nVia: x\r\ncontent-length: 0\r\n\r\n',
      ]);
      const r = response(p)!;
      expect(r.rawHeaders).to.deep.equal([
        'Set-Cookie', 'a=1', 'X-Mixed-Case', 'M', 'set-cookie', 'b=2', 'SET-COOKIE', 'c=3', 'Via', 'x', 'content-length', '0',
      ]);
      expect({ ...r.headers }).to.deep.equal({ 'set-cookie': ['a=1', 'b=2', 'c=3'], 'x-mixed-case': 'M', via: 'x', 'content-length': '0' });
    });
  });

  describe('chunked bodies and trailers', () => {
    it('gives trailers in rawTrailers (as received) and trailers (lower-case)', () => {
      const p = parse([
        'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: X-Sum\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\nx-sum: 43\r\nX-Other: o\r\n\r\n',
      ]);
      const r = response(p)!;
      expect(r.text()).to.equal('hello world');
      expect(r.rawTrailers).to.deep.equal(['X-Sum', '42', 'x-sum', '43', 'X-Other', 'o']);
      expect({ ...r.trailers }).to.deep.equal({ 'x-sum': ['42', '43'], 'x-other': 'o' });
      expect(r.rawHeaders).to.deep.equal(['transfer-encoding', 'chunked', 'trailer', 'X-Sum']);
    });

    it('without trailers: empty rawTrailers and {} trailers', () => {
      const p = parse(['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n']);
      const r = response(p)!;
      expect(r.text()).to.equal('abc');
      expect(r.rawTrailers).to.deep.equal([]);
      expect({ ...r.trailers }).to.deep.equal({});
      expect(p.keepAlive).to.equal(true);
    });

    it('assembles chunks fed byte by byte', () => {
      const body = pattern(300);
      const input = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'), chunked(body, 7, 'X-T: 1\r\n')]);
      const p = parser();
      start(p);
      for (let i = 0; i < input.length; i++) p.feed(input.subarray(i, i + 1));
      expect(p.error).to.equal(null);
      expect(response(p)!.body.equals(body)).to.equal(true);
      expect(response(p)!.rawTrailers).to.deep.equal(['X-T', '1']);
    });
  });

  describe('1xx interim responses', () => {
    it('skips 100 Continue and gives the final response, in one feed', () => {
      const p = parse(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Final: 1\r\ncontent-length: 2\r\n\r\nok']);
      expect(p.unasked).to.equal(false);
      const r = response(p)!;
      expect([r.statusCode, r.rawHeaders, r.text()]).to.deep.equal([200, ['X-Final', '1', 'content-length', '2'], 'ok']);
    });

    it('skips 103 Early Hints (its Link headers do not leak into the final response), in separate feeds', () => {
      const p = parse([
        'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>; rel=preload\r\n\r\n',
        'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
      ]);
      const r = response(p)!;
      expect(r.statusCode).to.equal(200);
      expect(r.rawHeaders).to.deep.equal(['content-length', '2']);
      expect(r.headers.link).to.equal(undefined);
    });

    it('skips several interim responses, one with more than 32 headers', () => {
      const p = parse([
        `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n${headerLines(40, 'Link')}\r\n`,
        'HTTP/1.1 200 OK\r\nX-A: 1\r\ncontent-length: 2\r\n\r\nok',
      ]);
      expect(response(p)!.rawHeaders).to.deep.equal(['X-A', '1', 'content-length', '2']);
      expect(response(p)!.text()).to.equal('ok');
    });

    it('gives no response for an interim response alone', () => {
      const p = parse(['HTTP/1.1 100 Continue\r\n\r\n']);
      expect(response(p)).to.equal(null);
      expect(p.error).to.equal(null);
      expect(p.headComplete).to.equal(false);
    });
  });

  describe('bodiless responses and keep-alive', () => {
    it('HEAD: Content-Length: 10 and no body is a complete response with an empty body, kept alive', () => {
      const p = parse(['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n'], { bodiless: true });
      expect(response(p)!.body.length).to.equal(0);
      expect(response(p)!.headers['content-length']).to.equal('10');
      expect(p.keepAlive).to.equal(true);
      // Without `bodiless` the same bytes wait for 10 body bytes.
      expect(response(parse(['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n']))).to.equal(null);
    });

    for (const status of ['204 No Content', '304 Not Modified']) {
      it(`${status} has no body and is kept alive`, () => {
        const p = parse([`HTTP/1.1 ${status}\r\nETag: "x"\r\n\r\n`]);
        expect(response(p)!.statusCode).to.equal(Number(status.slice(0, 3)));
        expect(response(p)!.body.length).to.equal(0);
        expect(p.keepAlive).to.equal(true);
      });
    }

    const keepAlive: [string, string, boolean, string][] = [
      ['HTTP/1.1', '', true, '1.1'],
      ['HTTP/1.1', 'Connection: close\r\n', false, '1.1'],
      ['HTTP/1.0', '', false, '1.0'],
      ['HTTP/1.0', 'Connection: keep-alive\r\n', true, '1.0'],
    ];
    for (const [version, extra, want, httpVersion] of keepAlive) {
      it(`${version} ${JSON.stringify(extra)}: keepAlive ${want}`, () => {
        const p = parse([`${version} 200 OK\r\n${extra}content-length: 2\r\n\r\nok`]);
        expect(response(p)!.httpVersion).to.equal(httpVersion);
        expect(p.keepAlive).to.equal(want);
      });
    }

    const hints: [string, number][] = [
      ['', -1],
      ['Keep-Alive: timeout=5\r\n', 5000],
      ['Keep-Alive: timeout=5, max=100\r\n', 5000],
      ['keep-alive: max=100, timeout=2\r\n', 2000],
      ['Keep-Alive: max=100\r\n', -1],
    ];
    for (const [line, want] of hints) {
      it(`keepAliveHint ${want} for ${JSON.stringify(line)}`, () => {
        expect(parse([`HTTP/1.1 200 OK\r\n${line}content-length: 0\r\n\r\n`]).keepAliveHint).to.equal(want);
      });
    }

    it('keepAliveTimeout() reads timeout=N in seconds as ms', () => {
      expect(keepAliveTimeout('timeout=5')).to.equal(5000);
      expect(keepAliveTimeout('Timeout = 3, max=9')).to.equal(3000);
      expect(keepAliveTimeout('max=9;timeout=1')).to.equal(1000);
      expect(keepAliveTimeout('xtimeout=5')).to.equal(-1);
      expect(keepAliveTimeout('timeout=')).to.equal(-1);
      expect(keepAliveTimeout('timeout x, timeout=4')).to.equal(4000);
      expect(keepAliveTimeout('max=1,\u00a0timeout=6')).to.equal(6000);
      expect(keepAliveTimeout('')).to.equal(-1);
    });

    it('follows the Keep-Alive hint from response to response on one stream, and header names in any case', () => {
      const p = parser();
      p.reset();
      const hints: number[] = [];
      const lengths: number[] = [];
      for (const [ka, cl] of [['keep-alive', 'content-length'], ['KEEP-ALIVE', 'CONTENT-LENGTH'], ['Keep-alive', 'Content-length']]) {
        for (const line of [`${ka}: timeout=5\r\n`, `${ka}: timeout=5\r\n`, `${ka}: timeout=3\r\n`, '']) {
          p.expect(false);
          p.feed(Buffer.from(`HTTP/1.1 200 OK\r\n${line}${cl}: 2\r\n\r\nok`));
          hints.push(p.keepAliveHint);
          lengths.push(p.done.shift()!.body.length);
        }
      }
      expect(hints).to.deep.equal([5000, 5000, 3000, -1, 5000, 5000, 3000, -1, 5000, 5000, 3000, -1]);
      expect(lengths).to.deep.equal(Array(12).fill(2));
      expect(p.error).to.equal(null);
    });
  });

  describe('errors', () => {
    const malformed: [string, string, string[]][] = [
      ['a bad status line', 'HTTP/1.1 abc OK\r\n\r\n', ['HPE_INVALID_STATUS']],
      ['a status below 100', 'HTTP/1.1 99 Odd\r\n\r\n', ['HPE_INVALID_STATUS']],
      ['garbage instead of a status line', 'hello there\r\n\r\n', ['HPE_INVALID_CONSTANT']],
      ['an invalid chunk size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', ['HPE_INVALID_CHUNK_SIZE']],
      ['a chunk longer than its size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n', ['HPE_STRICT']],
      ['conflicting Content-Lengths', 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello', ['HPE_UNEXPECTED_CONTENT_LENGTH']],
      [
        'Content-Length with Transfer-Encoding',
        'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
        ['HPE_INVALID_TRANSFER_ENCODING', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
      ],
      ['a non-numeric Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: abc\r\n\r\n', ['HPE_INVALID_CONTENT_LENGTH']],
      ['a header name with a space', 'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', ['HPE_INVALID_HEADER_TOKEN']],
      ['a bare CR in a header value', 'HTTP/1.1 200 OK\r\nx: a\rb\r\n\r\n', ['HPE_LF_EXPECTED', 'HPE_INVALID_HEADER_TOKEN', 'HPE_CR_EXPECTED']],
    ];
    for (const [what, input, codes] of malformed) {
      it(`${what}: ParseError HCP_PARSE with ${codes[0]}`, () => {
        const p = parse([input]);
        expect(response(p)).to.equal(null);
        expect(p.error).to.be.instanceOf(ParseError);
        const err = p.error as ParseError;
        expect(err.code).to.equal('HCP_PARSE');
        expect(err.parserCode).to.be.oneOf(codes);
        expect(err.message).to.contain(err.parserCode);
      });
    }

    it('101 Switching Protocols is an UpgradeError HCP_UPGRADE, with or without Upgrade headers', () => {
      for (const input of [
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello',
        'HTTP/1.1 101 Switching Protocols\r\n\r\n',
      ]) {
        const p = parse([input]);
        expect(response(p)).to.equal(null);
        expect(p.error).to.be.instanceOf(UpgradeError);
        expect(p.error!.code).to.equal('HCP_UPGRADE');
      }
    });

    it('a Content-Length body cut short: eof() gives no response but ParseError HPE_INVALID_EOF_STATE', () => {
      const p = parse(['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc']);
      expect(p.eof()).to.equal(false);
      expect(response(p)).to.equal(null);
      expect(p.error).to.be.instanceOf(ParseError);
      expect((p.error as ParseError).parserCode).to.equal('HPE_INVALID_EOF_STATE');
    });

    it('a chunked body cut before the last chunk: the same', () => {
      const p = parse(['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n']);
      expect(p.eof()).to.equal(false);
      expect(response(p)).to.equal(null);
      expect((p.error as ParseError).parserCode).to.equal('HPE_INVALID_EOF_STATE');
    });

    it('eof() before any byte: no response and no parse error (the connection reports a socket error)', () => {
      const p = parser();
      start(p);
      expect(p.eof()).to.equal(false);
      expect(p.error).to.equal(null);
      expect(p.responseBegun()).to.equal(false);
    });

    it('a head larger than maxHeaderSize: ParseError HPE_HEADER_OVERFLOW', () => {
      const p = parse([`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(200)}\r\ncontent-length: 0\r\n\r\n`], { maxHeaderSize: 100 });
      expect(p.error).to.be.instanceOf(ParseError);
      expect((p.error as ParseError).parserCode).to.equal('HPE_HEADER_OVERFLOW');
      // The same response fits a larger limit.
      expect(response(parse([`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(200)}\r\ncontent-length: 0\r\n\r\n`], { maxHeaderSize: 1000 }))).to.not.equal(null);
    });

    it('maxResponseSize: a declared Content-Length above it fails at the head; exactly at it passes', () => {
      const over = parse(['HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n'], { maxResponseSize: 10 });
      expect(over.error).to.be.instanceOf(ResponseTooLargeError);
      expect(over.error!.code).to.equal('HCP_RESPONSE_TOO_LARGE');
      const at = parse(['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789'], { maxResponseSize: 10 });
      expect(at.error).to.equal(null);
      expect(response(at)!.text()).to.equal('0123456789');
    });

    it('maxResponseSize: a chunked or close-delimited body that grows past it fails; exactly at it passes', () => {
      const head = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n';
      const over = parse([head, '5\r\nhello\r\n', '6\r\n world\r\n0\r\n\r\n'], { maxResponseSize: 10 });
      expect(response(over)).to.equal(null);
      expect(over.error).to.be.instanceOf(ResponseTooLargeError);
      const at = parse([head, '5\r\nhello\r\n', '5\r\nworld\r\n0\r\n\r\n'], { maxResponseSize: 10 });
      expect(response(at)!.text()).to.equal('helloworld');
      const eofOver = parse(['HTTP/1.1 200 OK\r\n\r\nhello', 'world!'], { maxResponseSize: 10, eof: true });
      expect(response(eofOver)).to.equal(null);
      expect(eofOver.error).to.be.instanceOf(ResponseTooLargeError);
    });

    it('bytes after the complete response set `unasked`', () => {
      expect(parse(['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok']).unasked).to.equal(false);
      const p = parse(['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n']);
      expect(response(p)!.text()).to.equal('ok');
      expect(p.unasked).to.equal(true);
      const q = parse(['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', 'junk']);
      expect(q.unasked).to.equal(true);
    });

    it('reset() clears everything: the parser serves a new exchange after an error', () => {
      const p = parser();
      start(p);
      p.feed(Buffer.from('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=9\r\ncontent-length: 1\r\n\r\nxy'));
      expect(p.unasked).to.equal(true);
      start(p);
      p.feed(Buffer.from('garbage\r\n\r\n'));
      expect(p.error).to.be.instanceOf(ParseError);
      start(p);
      expect([response(p), p.error, p.unasked, p.keepAliveHint]).to.deep.equal([null, null, false, -1]);
      p.feed(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
      expect(response(p)!.text()).to.equal('ok');
      expect(p.unasked).to.equal(false);
    });

    it('maxResponseSize does not apply to a HEAD response or a 304, which have no body', () => {
      const head = parse(['HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n'], { bodiless: true, maxResponseSize: 100 });
      expect(head.error).to.equal(null);
      expect(response(head)!.body.length).to.equal(0);
      const notModified = parse(['HTTP/1.1 304 Not Modified\r\ncontent-length: 5000\r\n\r\n'], { maxResponseSize: 100 });
      expect(notModified.error).to.equal(null);
      expect(response(notModified)!.statusCode).to.equal(304);
    });
  });
});

