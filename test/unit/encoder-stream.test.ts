// RequestEncoder with streamed bodies: the head alone, with the caller's content-length
// (checked) or a Blob's size, else chunked; Expect only through expectContinue; the
// headers the pool manages stay refused.
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { InvalidArgumentError } from '../../dist/index.js';
import { RequestEncoder, type Encoded } from '../../dist/parser/request.js';

const out = (): Encoded => ({ head: Buffer.alloc(0), body: null, closeAfter: false, streamed: null });

async function* gen(): AsyncGenerator<string> {
  yield 'x';
}

describe('RequestEncoder: streamed bodies', () => {
  const enc = new RequestEncoder('h:1', {});

  it('without a length: the head alone, transfer-encoding: chunked, the source kept', () => {
    const o = out();
    const body = gen();
    enc.encode(o, 'POST', '/u', undefined, body);
    expect(o.head.toString('latin1')).to.equal('POST /u HTTP/1.1\r\nhost: h:1\r\ntransfer-encoding: chunked\r\n\r\n');
    expect(o.body).to.equal(null);
    expect(o.streamed?.source).to.equal(body);
    expect(o.streamed?.length).to.equal(-1);
  });

  it("with the caller's content-length (string or number): that length, once", () => {
    for (const cl of ['12', 12]) {
      const o = out();
      enc.encode(o, 'PUT', '/u', { 'Content-Length': cl }, Readable.from(['x']));
      expect(o.head.toString('latin1')).to.equal('PUT /u HTTP/1.1\r\nhost: h:1\r\ncontent-length: 12\r\n\r\n');
      expect(o.streamed?.length).to.equal(12);
    }
  });

  it("a Blob goes with its size; a content-length that differs is refused", () => {
    const o = out();
    enc.encode(o, 'POST', '/u', undefined, new Blob(['abc']));
    expect(o.head.toString('latin1')).to.equal('POST /u HTTP/1.1\r\nhost: h:1\r\ncontent-length: 3\r\n\r\n');
    expect(o.streamed?.length).to.equal(3);
    expect(() => enc.encode(out(), 'POST', '/u', { 'content-length': '4' }, new Blob(['abc']))).to.throw(InvalidArgumentError, /Blob/);
  });

  it('a web ReadableStream is a source as it is', () => {
    const o = out();
    const rs = new ReadableStream();
    enc.encode(o, 'POST', '/u', undefined, rs);
    expect(o.streamed?.source).to.equal(rs);
  });

  it('a content-length that is not a non-negative integer is refused', () => {
    for (const cl of ['-1', '1.5', 'abc', '', ' 3']) {
      expect(() => enc.encode(out(), 'POST', '/u', { 'content-length': cl }, gen()), cl).to.throw(InvalidArgumentError, /content-length/);
    }
  });

  it('transfer-encoding and expect stay refused; expectContinue writes Expect itself', () => {
    expect(() => enc.encode(out(), 'POST', '/u', { 'transfer-encoding': 'chunked' }, gen())).to.throw(InvalidArgumentError, /transfer-encoding/);
    expect(() => enc.encode(out(), 'POST', '/u', { expect: '100-continue' }, gen())).to.throw(InvalidArgumentError, /expect/);
    const o = out();
    enc.encode(o, 'POST', '/u', undefined, gen(), true);
    expect(o.head.toString('latin1')).to.equal('POST /u HTTP/1.1\r\nhost: h:1\r\nexpect: 100-continue\r\ntransfer-encoding: chunked\r\n\r\n');
    expect(o.streamed?.expectContinue).to.equal(true);
  });

  it('expectContinue turns a body in bytes into a one-piece source behind the head', async () => {
    const o = out();
    enc.encode(o, 'POST', '/u', undefined, 'hello', true);
    expect(o.head.toString('latin1')).to.equal('POST /u HTTP/1.1\r\nhost: h:1\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\n');
    const got: Buffer[] = [];
    for await (const piece of o.streamed!.source as AsyncIterable<Buffer>) got.push(piece);
    expect(Buffer.concat(got).toString()).to.equal('hello');
    // Without a body there is nothing to wait for.
    const g = out();
    enc.encode(g, 'GET', '/g', undefined, undefined, true);
    expect(g.streamed).to.equal(null);
    expect(g.head.toString('latin1')).to.not.include('expect');
  });

  it('a HEAD with a streamed body is refused', () => {
    expect(() => enc.encode(out(), 'HEAD', '/u', undefined, gen())).to.throw(InvalidArgumentError, /HEAD/);
  });
});
