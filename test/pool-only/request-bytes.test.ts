// Pool only: the exact bytes Pool writes for a request (head field order, no
// `connection` header, head and small body in one write) and RequestEncoder's head
// cache. NodePool lets node:http serialise requests (see 'exact-request-bytes' in
// test/contract/backends.ts); what both backends send is in test/contract/pool.test.ts.
import { expect } from 'chai';
import { InvalidArgumentError, type Pool } from '../../dist/index.js';
import { RequestEncoder, type Encoded } from '../../dist/parser/request.js';
import { cleanup, pool, recordingServer, reply, type Tracker } from '../helpers.js';


describe('Pool only: request bytes', () => {
  afterEach(cleanup);

  /** Size-1 pool on a raw server that answers every request and records its heads and bytes. */
  async function capture(options: { headers?: Record<string, string> } = {}): Promise<{
    p: Pool;
    port: number;
    tracker: Tracker;
    /** The bytes received since the previous call. */
    take: () => string;
  }> {
    const { url, port, tracker } = await recordingServer(() => reply());
    const p = pool({ baseURL: url, size: 1, ...options });
    let seen = 0;
    const take = (): string => {
      const all = tracker.text;
      const out = all.slice(seen);
      seen = all.length;
      return out;
    };
    return { p, port, tracker, take };
  }

  it('writes the request line, Host with port, and nothing else for a plain GET', async () => {
    const { p, port, take } = await capture();
    await p.get('/a/b?c=d&e');
    expect(take()).to.equal(`GET /a/b?c=d&e HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`);
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

  it('RequestEncoder serialises a plain GET head once per path', () => {
    const enc = new RequestEncoder('h:1', { 'x-d': '1' });
    const out = (): Encoded => ({ head: Buffer.alloc(0), body: null, closeAfter: false, streamed: null });
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
