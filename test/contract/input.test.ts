// Bad input at the call, for both backends: each call rejects with InvalidArgumentError
// (HCP_INVALID_ARGUMENT, phase call) and nothing reaches the server. A raw server
// records every byte it receives; it must have recorded none after all the bad calls,
// and then exactly one request once a valid call is made (so the recorder works).
// Option validation that test/unit/pure.test.ts covers for Pool is repeated here for
// NodePool only.
import { expect } from 'chai';
import { InvalidArgumentError, NodePool, type Client, type PoolOptions } from '../../dist/index.js';
import { cleanup, recordingServer, rejects, reply, turns } from '../helpers.js';
import { BACKENDS } from './backends.js';

/** A server that records every byte it receives and answers each request head with 200. */
const recorder = () => recordingServer(() => reply());

async function refused(call: () => Promise<unknown>, name: string): Promise<void> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (err) {
    throw new Error(`${name}: threw synchronously instead of rejecting: ${String(err)}`);
  }
  const err = await rejects(promise, InvalidArgumentError, 'HCP_INVALID_ARGUMENT').catch((e: Error) => {
    throw new Error(`${name}: ${e.message}`);
  });
  expect(err.phase, name).to.equal('call');
}

for (const backend of BACKENDS) {
  describe(`input: ${backend.name}: bad calls are refused and send nothing`, function () {
    this.timeout(10_000);
    afterEach(cleanup);

    /** Runs the bad calls against a pool on a recording server; then one valid call goes through alone. */
    async function expectNothingSent(calls: [string, (p: Client, url: string) => Promise<unknown>][], options: PoolOptions = {}): Promise<void> {
      const r = await recorder();
      const p = backend.pool({ baseURL: r.url, size: 1, requestTimeout: 5000, ...options });
      for (const [name, call] of calls) await refused(() => call(p, r.url), name);
      await turns(3); // anything a bad call had started writing would be at the server by then
      expect(r.tracker.bytes, 'bytes received after the bad calls').to.equal(0);
      expect((await p.get('/valid')).text()).to.equal('ok');
      expect(r.tracker.text.split('\r\n')[0]).to.equal('GET /valid HTTP/1.1');
      expect(r.tracker.text.match(/HTTP\/1\.1\r\n/g)).to.have.length(1);
    }

    it('invalid and unsupported absolute URLs, and schemes other than http(s)', async () => {
      await expectNothingSent([
        ['ftp scheme', (p, url) => p.get(url.replace('http:', 'ftp:') + '/')],
        ['file scheme', (p) => p.get('file:///etc/passwd')],
        ['ws scheme', (p, url) => p.get(url.replace('http:', 'ws:') + '/')],
        ['javascript scheme', (p) => p.get('javascript:alert(1)')],
        ['data scheme', (p) => p.get('data:text/plain,hi')],
        ['no host', (p) => p.get('http://')],
        ['unclosed IPv6 bracket', (p) => p.get('http://[::1/')],
        ['port out of range', (p) => p.get('http://127.0.0.1:70000/')],
        ['credentials in the URL', (p, url) => p.get(url.replace('http://', 'http://user:pw@') + '/')],
      ]);
    });

    it('a relative path without baseURL, and a path that is not a string', async () => {
      const r = await recorder();
      const p = backend.pool({ size: 1 });
      await refused(() => p.get('/relative'), 'relative');
      await refused(() => p.get(42 as unknown as string), 'number path');
      await refused(() => p.get(undefined as unknown as string), 'undefined path');
      await refused(() => p.request(null as never), 'request(null)');
      await turns(3); // anything a bad call had started writing would be at the server by then
      expect(r.tracker.connections).to.equal(0);
      expect(p.stats().origins).to.have.length(0);
      expect((await p.get(`${r.url}/abs`)).text()).to.equal('ok');
    });

    it('baseURL with a query or fragment, or an unsupported scheme, is refused at construction', () => {
      for (const baseURL of ['http://127.0.0.1:1/?q=1', 'http://127.0.0.1:1/#frag', 'http://127.0.0.1:1/v1?', 'ftp://127.0.0.1:1', 'not a url', 'http://u:p@127.0.0.1:1']) {
        let err: unknown;
        try {
          new backend.cls({ baseURL, size: 1 }).destroy();
        } catch (e) {
          err = e;
        }
        expect(err, baseURL).to.be.instanceOf(InvalidArgumentError);
        expect((err as InvalidArgumentError).code, baseURL).to.equal('HCP_INVALID_ARGUMENT');
      }
    });

    if (backend.name === 'NodePool') {
      // Pool's are in test/unit/pure.test.ts.
      it('size 0, negative, fractional, NaN, Infinity, and negative or NaN timeouts are refused at construction', () => {
        const bad: [string, unknown][] = [
          ['size', 0], ['size', -1], ['size', 1.5], ['size', NaN], ['size', Infinity],
          ['dialTimeout', -1], ['tlsTimeout', -5], ['responseHeaderTimeout', NaN], ['requestTimeout', -1],
          ['idleConnTimeout', -0.5], ['maxConnsPerHost', 0], ['maxResponseSize', -1], ['maxHeaderSize', 0.5],
        ];
        for (const [name, value] of bad) {
          expect(() => new NodePool({ [name]: value }), `${name}: ${String(value)}`).to.throw(InvalidArgumentError, name);
        }
      });
    }

    it('a negative, NaN, infinite or non-number per-call timeout', async () => {
      await expectNothingSent([
        ['timeout -1', (p) => p.get('/', { timeout: -1 })],
        ['timeout NaN', (p) => p.get('/', { timeout: NaN })],
        ['timeout Infinity', (p) => p.get('/', { timeout: Infinity })],
        ['timeout 2^31', (p) => p.get('/', { timeout: 2 ** 31 })],
        ['timeout string', (p) => p.get('/', { timeout: '100' as unknown as number })],
        ['timeout on request()', (p) => p.request({ method: 'GET', path: '/', timeout: -10 })],
      ]);
    });

    it('CR, LF, NUL and other forbidden characters in the method', async () => {
      await expectNothingSent([
        ['CRLF', (p) => p.request({ method: 'GET\r\nX-Injected: 1', path: '/' })],
        ['LF', (p) => p.request({ method: 'GET\n', path: '/' })],
        ['NUL', (p) => p.request({ method: 'GE\0T', path: '/' })],
        ['space', (p) => p.request({ method: 'GET /evil HTTP/1.1\r\n\r\nGET', path: '/' })],
        ['empty', (p) => p.request({ method: '', path: '/' })],
        ['not a string', (p) => p.request({ method: 7 as unknown as string, path: '/' })],
        ['CONNECT', (p) => p.request({ method: 'CONNECT', path: '/' })],
      ]);
    });

    it('CR, LF, NUL, spaces and non-ASCII in a relative path', async () => {
      await expectNothingSent([
        ['CRLF', (p) => p.get('/a\r\nX-Injected: 1')],
        ['CR', (p) => p.get('/a\rb')],
        ['LF', (p) => p.get('/a\nb')],
        ['NUL', (p) => p.get('/a\0b')],
        ['tab', (p) => p.get('/a\tb')],
        ['space (request line split)', (p) => p.get('/a HTTP/1.1\r\nHost: evil')],
        ['DEL', (p) => p.get('/a\x7f')],
        ['non-ASCII', (p) => p.get('/caf\u00e9')],
        ['on request()', (p) => p.request({ method: 'DELETE', path: '/x\r\n' })],
        ['on post()', (p) => p.post('/x\0', 'body')],
      ]);
    });

    it('CR, LF, TAB and NUL in an absolute URL', async () => {
      await expectNothingSent([
        ['CRLF', (p, url) => p.get(`${url}/a\r\nX-Injected: 1`)],
        ['LF', (p, url) => p.get(`${url}/a\nb`)],
        ['TAB', (p, url) => p.get(`${url}/a\tb`)],
        ['NUL', (p, url) => p.get(`${url}/a\0b`)],
        ['CR in the host', (p, url) => p.get(`${url.replace('127.0.0.1', '127.0.\r0.1')}/`)],
      ]);
    });

    it('CR, LF, NUL in header names and values, non-token names, bad value types and managed headers', async () => {
      await expectNothingSent([
        ['name with CRLF', (p) => p.get('/', { headers: { 'x-a\r\nx-injected': '1' } })],
        ['name with NUL', (p) => p.get('/', { headers: { 'x-a\0': '1' } })],
        ['name with space', (p) => p.get('/', { headers: { 'x a': '1' } })],
        ['name with colon', (p) => p.get('/', { headers: { 'x:a': '1' } })],
        ['empty name', (p) => p.get('/', { headers: { '': '1' } })],
        ['value with CRLF', (p) => p.get('/', { headers: { 'x-a': 'v\r\nX-Injected: 1' } })],
        ['value with CR', (p) => p.get('/', { headers: { 'x-a': 'v\rw' } })],
        ['value with LF', (p) => p.get('/', { headers: { 'x-a': 'v\nw' } })],
        ['value with NUL', (p) => p.get('/', { headers: { 'x-a': 'v\0' } })],
        ['value with a control char', (p) => p.get('/', { headers: { 'x-a': 'v\x01' } })],
        ['array value with LF', (p) => p.get('/', { headers: { 'x-a': ['fine', 'v\n'] } })],
        ['array value not a string', (p) => p.get('/', { headers: { 'x-a': ['fine', 3 as unknown as string] } })],
        ['value NaN', (p) => p.get('/', { headers: { 'x-a': NaN } })],
        ['value object', (p) => p.get('/', { headers: { 'x-a': {} as unknown as string } })],
        ['value code point above 255', (p) => p.get('/', { headers: { 'x-a': 'snow \u2603' } })],
        ['host with CRLF', (p) => p.get('/', { headers: { host: 'a\r\nX-Injected: 1' } })],
        ['transfer-encoding', (p) => p.get('/', { headers: { 'transfer-encoding': 'chunked' } })],
        ['Upgrade', (p) => p.get('/', { headers: { Upgrade: 'websocket' } })],
        ['expect', (p) => p.post('/', 'x', { headers: { expect: '100-continue' } })],
        ['connection: upgrade', (p) => p.get('/', { headers: { connection: 'upgrade' } })],
        ['content-length not a number', (p) => p.post('/', 'abc', { headers: { 'content-length': '3, 3' } })],
        ['content-length mismatching the body', (p) => p.post('/', 'abc', { headers: { 'content-length': '4' } })],
        ['headers not an object', (p) => p.get('/', { headers: 'x-a: 1' as never })],
      ]);
    });

    it('bodies that cannot be serialised, wrong body types, and a body with HEAD or TRACE', async () => {
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      const circularArray: unknown[] = [];
      circularArray.push(circularArray);
      await expectNothingSent([
        ['BigInt', (p) => p.post('/', { n: 10n } as never)],
        ['nested BigInt in an array', (p) => p.post('/', [1, [2n]] as never)],
        ['circular object', (p) => p.post('/', circular)],
        ['circular array', (p) => p.post('/', circularArray)],
        ['toJSON that throws', (p) => p.post('/', { toJSON() { throw new Error('nope'); } })],
        ['number', (p) => p.post('/', 42 as never)],
        ['boolean', (p) => p.post('/', true as never)],
        ['function', (p) => p.post('/', (() => 1) as never)],
        ['Symbol', (p) => p.post('/', Symbol('x') as never)],
        ['class instance (Map)', (p) => p.post('/', new Map() as never)],
        ['HEAD with a string body', (p) => p.request({ method: 'HEAD', path: '/', body: 'x' })],
        ['HEAD with an empty string body', (p) => p.request({ method: 'HEAD', path: '/', body: '' })],
        ['HEAD with a JSON body', (p) => p.request({ method: 'HEAD', path: '/', body: { a: 1 } })],
        ['TRACE with a Buffer body', (p) => p.request({ method: 'TRACE', path: '/', body: Buffer.from('x') })],
      ]);
    });

    it('options that are not an object, and a signal that is not an AbortSignal', async () => {
      await expectNothingSent([
        ['options string', (p) => p.get('/', 'x' as never)],
        ['options null', (p) => p.get('/', null as never)],
        ['signal object', (p) => p.get('/', { signal: {} as AbortSignal })],
      ]);
    });
  });
}
