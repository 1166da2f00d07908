// The undici package (7, a dev dependency) on both backends: its request/stream/pipeline
// helpers with { dispatcher: pool }, compose() with its interceptors, and the parts of
// undici's dispatch contract they lean on (the controller, throws, abort reasons, events).
import { createGzip } from 'node:zlib';
import type http from 'node:http';
import { PassThrough, Writable } from 'node:stream';
import { pipeline as pipe } from 'node:stream/promises';
import { expect } from 'chai';
import { interceptors, pipeline, request, stream, type Dispatcher } from 'undici';
import { BodyTimeoutError, ConnectError, HeadersTimeoutError, InvalidArgumentError } from '../../dist/index.js';
import { cleanup, freePort, httpServer } from '../helpers.js';
import { BACKENDS } from './backends.js';

function echo(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }));
  });
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: undici's helpers and interceptors`, function () {
    this.timeout(20_000);
    afterEach(cleanup);

    it('is a Dispatcher to TypeScript and to undici.request (origin, query, headers as pairs, a body)', async () => {
      const { url } = await httpServer(echo);
      const pool = backend.dispatcher({});
      const d: Dispatcher = pool;
      const res = await request(`${url}/r`, { dispatcher: d, method: 'POST', query: { a: '1 2' }, headers: [['x-p', 'v']] as unknown as string[], body: 'payload' });
      expect(res.statusCode).to.equal(200);
      expect(res.headers['content-type']).to.equal('application/json');
      const body = (await res.body.json()) as { path: string; headers: Record<string, string>; body: string };
      expect(body.path).to.equal('/r?a=1%202');
      expect(body.headers['x-p']).to.equal('v');
      expect(body.body).to.equal('payload');
    });

    it('undici.stream and undici.pipeline', async () => {
      const { url } = await httpServer(echo);
      const pool = backend.dispatcher({});
      const got: Buffer[] = [];
      await stream(`${url}/s`, { dispatcher: pool, method: 'GET' }, () => new Writable({ write: (c: Buffer, _e, cb) => void (got.push(c), cb()) }));
      expect(JSON.parse(Buffer.concat(got).toString()).path).to.equal('/s');
      const out: Buffer[] = [];
      const src = new PassThrough();
      src.end('piped body');
      await pipe(
        src,
        pipeline(`${url}/p`, { dispatcher: pool, method: 'PUT' }, ({ body }) => body),
        new Writable({ write: (c: Buffer, _e, cb) => void (out.push(c), cb()) }),
      );
      expect(JSON.parse(Buffer.concat(out).toString()).body).to.equal('piped body');
    });

    it('compose(retry): 503, 503, then 200 (the pool answers the retries)', async () => {
      let n = 0;
      const { url } = await httpServer((req, res) => {
        if (++n < 3) {
          res.statusCode = 503;
          return res.end('busy');
        }
        echo(req, res);
      });
      const pool = backend.dispatcher({});
      const d = pool.compose(interceptors.retry({ maxRetries: 3, minTimeout: 1, timeoutFactor: 1, statusCodes: [503] }));
      const res = await request(`${url}/retry`, { dispatcher: d });
      expect(res.statusCode).to.equal(200);
      expect(n).to.equal(3);
      await res.body.text();
      // And with Node's own fetch, whichever handler style its undici uses.
      n = 0;
      const f = await fetch(`${url}/retry`, { dispatcher: d });
      expect(f.status).to.equal(200);
      expect(n).to.equal(3);
    });

    it("compose(retry) with this library's codes in errorCodes retries a socket failure", async () => {
      let n = 0;
      const { url } = await httpServer((req, res) => {
        // The first answer never comes: the connection is cut (a fresh socket: the pool itself does not resend).
        if (++n === 1) return void req.socket.destroy();
        echo(req, res);
      });
      const pool = backend.dispatcher({});
      const plain = pool.compose(interceptors.retry({ maxRetries: 2, minTimeout: 1, timeoutFactor: 1 }));
      const failed = await request(`${url}/cut`, { dispatcher: plain }).catch((e: Error & { code?: string }) => e);
      expect((failed as { code?: string }).code).to.equal('HCP_SOCKET');
      n = 0;
      const retrying = pool.compose(interceptors.retry({ maxRetries: 2, minTimeout: 1, timeoutFactor: 1, errorCodes: ['HCP_SOCKET', 'HCP_CONNECT'] }));
      const res = await request(`${url}/cut`, { dispatcher: retrying });
      expect(res.statusCode).to.equal(200);
      expect(n).to.equal(2);
      await res.body.text();
    });

    it('compose(redirect, decompress, dump, dns)', async () => {
      const { url } = await httpServer((req, res) => {
        if (req.url === '/from') {
          res.statusCode = 302;
          res.setHeader('location', '/to');
          return res.end();
        }
        if (req.url === '/to') {
          res.setHeader('content-encoding', 'gzip');
          const z = createGzip();
          z.pipe(res);
          return z.end('unzipped text');
        }
        res.end('x'.repeat(100));
      });
      const pool = backend.dispatcher({});
      const d = pool.compose(interceptors.redirect({ maxRedirections: 2 }), interceptors.decompress(), interceptors.dns());
      const res = await request(`${url}/from`, { dispatcher: d });
      expect(res.statusCode).to.equal(200);
      expect(await res.body.text()).to.equal('unzipped text');
      const dumped = await request(`${url}/dump`, { dispatcher: pool.compose(interceptors.dump({ maxSize: 1000 })) });
      expect(dumped.statusCode).to.equal(200);
      expect(await dumped.body.text()).to.equal('');
    });

    it('the controller: paused, aborted and reason are read-only, its state is not in sight', async () => {
      const { url } = await httpServer(echo);
      const pool = backend.dispatcher({});
      const seen = await new Promise<{ keys: string[]; assign: unknown; raw: unknown }>((resolve, reject) =>
        pool.dispatch(
          { origin: url, path: '/c', method: 'GET' },
          {
            onResponseStart(c: Record<string, unknown>) {
              let assign: unknown = null;
              try {
                c.paused = true;
              } catch (e) {
                assign = e;
              }
              resolve({ keys: Object.keys(c), assign, raw: c.rawHeaders });
            },
            onResponseError: (_c: unknown, e: Error) => reject(e),
          },
        ),
      );
      expect(seen.assign).to.be.instanceOf(TypeError);
      expect(seen.keys.sort()).to.deep.equal(['rawHeaders', 'rawTrailers']);
      expect(seen.raw).to.be.an('array').that.includes('content-type');
    });

    it('a throw in onResponseEnd, and an abort reason, reach onResponseError once and unwrapped', async () => {
      const { url } = await httpServer(echo);
      const pool = backend.dispatcher({});
      const thrown = new Error('from onResponseEnd');
      const errors = await new Promise<unknown[]>((resolve) => {
        const errs: unknown[] = [];
        pool.dispatch(
          { origin: url, path: '/e', method: 'GET' },
          {
            onResponseEnd() {
              throw thrown;
            },
            onResponseError(_c: unknown, e: Error) {
              errs.push(e);
              setImmediate(() => resolve(errs));
            },
          },
        );
      });
      expect(errors).to.deep.equal([thrown]);
      const reason = { mine: true };
      const aborted = await new Promise<unknown[]>((resolve) => {
        const errs: unknown[] = [];
        pool.dispatch(
          { origin: url, path: '/a', method: 'GET' },
          {
            onResponseStart: (c: { abort(r: unknown): void }) => c.abort(reason),
            onResponseError(_c: unknown, e: Error) {
              errs.push(e);
              setImmediate(() => resolve(errs));
            },
          },
        );
      });
      expect(aborted).to.deep.equal([reason]);
    });

    it('legacy handlers (undici 6 and 7): onConnect, onHeaders with raw headers, onData, onComplete; chunks kept unchanged', async () => {
      const { url } = await httpServer((_req, res) => res.end('a'.repeat(10_000)));
      const pool = backend.dispatcher({});
      const out = await new Promise<{ status: number; raw: unknown[]; chunks: Buffer[]; copies: string[] }>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const copies: string[] = [];
        let status = 0;
        let raw: unknown[] = [];
        pool.dispatch(
          { origin: new URL(url), path: '/l', method: 'GET' },
          {
            onConnect: () => {},
            onHeaders: (s: number, h: unknown[]) => void ((status = s), (raw = h)),
            onData: (c: Buffer) => void (chunks.push(c), copies.push(c.toString())),
            onComplete: () => resolve({ status, raw, chunks, copies }),
            onError: reject,
          },
        );
      });
      expect(out.status).to.equal(200);
      expect(out.raw.map((h) => String(h).toLowerCase())).to.include('content-length');
      expect(out.chunks.map((c) => c.toString())).to.deep.equal(out.copies);
      expect(Buffer.concat(out.chunks).toString()).to.equal('a'.repeat(10_000));
    });

    it('bad undici options throw InvalidArgumentError at the call: maxRedirections, a path without "/", a bad origin', () => {
      const pool = backend.dispatcher({});
      expect(() => pool.dispatch({ origin: 'http://127.0.0.1:1', path: '/', method: 'GET', maxRedirections: 2 }, {})).to.throw(InvalidArgumentError, /redirect interceptor/);
      expect(() => pool.dispatch({ origin: 'http://127.0.0.1:1', path: 'x', method: 'GET' }, {})).to.throw(InvalidArgumentError, /start with/);
      expect(() => pool.dispatch({ origin: 'ftp://127.0.0.1:1', path: '/', method: 'GET' }, {})).to.throw(InvalidArgumentError);
      expect(pool.stats().origins).to.deep.equal([]);
    });

    it("undici's events: connect, and close/destroy with callbacks", async () => {
      const { url } = await httpServer(echo);
      const pool = backend.dispatcher({ size: 1 });
      const connects: string[] = [];
      pool.on('connect', (origin: URL, targets: unknown[]) => void (connects.push(origin.origin), expect(targets[0]).to.equal(pool)));
      await (await fetch(`${url}/ev`, { dispatcher: pool })).text();
      expect(connects).to.deep.equal([url]);
      await new Promise<void>((resolve) => pool.close(() => resolve()));
      await new Promise<void>((resolve) => pool.destroy(null, () => resolve()));
    });
  });
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: undici's per-request options`, function () {
    this.timeout(20_000);
    afterEach(cleanup);

    /** Dispatches with undici's options; resolves with the status and body, or the error. */
    function send(pool: Dispatcher, opts: Dispatcher.DispatchOptions & Record<string, unknown>): Promise<{ status: number; body: string } | Error> {
      return new Promise((resolve) => {
        let status = 0;
        const chunks: Buffer[] = [];
        pool.dispatch(opts, {
          onResponseStart: (_c: unknown, s: number) => void (status = s),
          onResponseData: (_c: unknown, c: Buffer) => void chunks.push(c),
          onResponseEnd: () => resolve({ status, body: Buffer.concat(chunks).toString() }),
          onResponseError: (_c: unknown, e: Error) => resolve(e),
        } as unknown as Dispatcher.DispatchHandler);
      });
    }

    it('headersTimeout and bodyTimeout are this request\'s own, not the pool\'s', async () => {
      const { url } = await httpServer((req, res) => {
        if (req.url === '/slow-head') return void setTimeout(() => res.end('late'), 2_000);
        res.setHeader('content-length', 10);
        res.write('12345'); // and the rest never comes
      });
      const pool = backend.dispatcher({ responseHeaderTimeout: 10_000, bodyTimeout: 10_000 });
      const head = await send(pool, { origin: url, path: '/slow-head', method: 'GET', headersTimeout: 50 });
      expect(head).to.be.instanceOf(HeadersTimeoutError);
      expect((head as HeadersTimeoutError).message).to.include('50');
      const body = await send(pool, { origin: url, path: '/stall', method: 'GET', bodyTimeout: 50 });
      expect(body).to.be.instanceOf(BodyTimeoutError);
    });

    it('headers as a flat list, reset (connection: close), and zeroCopy per request', async () => {
      const seen: http.IncomingHttpHeaders[] = [];
      const { url } = await httpServer((req, res) => {
        seen.push(req.headers);
        res.end('x'.repeat(100));
      });
      const pool = backend.dispatcher({});
      const a = await send(pool, { origin: url, path: '/a', method: 'GET', headers: ['x-one', '1', 'x-two', '2'], reset: true });
      expect(a).to.deep.equal({ status: 200, body: 'x'.repeat(100) });
      expect(seen[0]!['x-one']).to.equal('1');
      expect(seen[0]!['x-two']).to.equal('2');
      expect(seen[0]!.connection).to.equal('close');
      // zeroCopy: the flat raw list where undici's headers object would be.
      const raw = await new Promise<unknown>((resolve, reject) =>
        pool.dispatch({ origin: url, path: '/z', method: 'GET', zeroCopy: true }, {
          onResponseStart: (_c, _s, headers) => resolve(headers),
          onResponseError: (_c, e) => reject(e),
        }),
      );
      expect(raw).to.be.an('array');
      const obj = await new Promise<unknown>((resolve, reject) =>
        pool.dispatch({ origin: url, path: '/o', method: 'GET' }, {
          onResponseStart: (_c: unknown, _s: number, headers: unknown) => resolve(headers),
          onResponseError: (_c: unknown, e: Error) => reject(e),
        }),
      );
      expect(obj).to.be.an('object').with.property('content-length', '100');
    });

    it('a servername other than the host is refused at the call (the pool has one TLS setting per origin)', () => {
      const pool = backend.dispatcher({});
      expect(() => pool.dispatch({ origin: 'https://127.0.0.1:1', path: '/', method: 'GET', servername: 'other.test' }, {})).to.throw(InvalidArgumentError, /tls\.servername/);
    });

    it("drain follows a dispatch() that returned false; disconnect and connectionError carry the origin", async () => {
      const { url } = await httpServer((_req, res) => setImmediate(() => res.end('ok')));
      const pool = backend.dispatcher({ size: 1 });
      const drained = new Promise<URL>((resolve) => pool.once('drain', (origin: URL) => resolve(origin)));
      const first = send(pool, { origin: url, path: '/1', method: 'GET' });
      let queued = true;
      const second = new Promise((resolve) => {
        queued = !pool.dispatch({ origin: url, path: '/2', method: 'GET' }, { onResponseEnd: resolve, onResponseError: resolve });
      });
      expect(queued).to.equal(true);
      expect((await drained).origin).to.equal(url);
      await Promise.all([first, second]);
      const disconnected = new Promise<URL>((resolve) => pool.once('disconnect', (origin: URL) => resolve(origin)));
      await pool.close();
      expect((await disconnected).origin).to.equal(url);
      const refused = backend.dispatcher({});
      const failed = new Promise<[URL, Error]>((resolve) => refused.once('connectionError', (origin: URL, _t: unknown, err: Error) => resolve([origin, err])));
      const port = await freePort();
      await send(refused, { origin: `http://127.0.0.1:${port}`, path: '/', method: 'GET' });
      const [origin, err] = await failed;
      expect(origin.origin).to.equal(`http://127.0.0.1:${port}`);
      expect(err).to.be.instanceOf(ConnectError);
    });

    it('refuses a handler whose callback is not a function, naming it, before anything is sent', async () => {
      const { url } = await httpServer((_req, res) => res.end('ok'));
      const pool = backend.dispatcher({});
      for (const [name, handler] of [
        ['onResponseEnd', { onResponseStart() {}, onResponseEnd: 1 }],
        ['onData', { onHeaders() {}, onData: 'x' }],
        ['onUpgrade', { onUpgrade: {} }],
      ] as const) {
        expect(() => pool.dispatch({ origin: url, path: '/', method: 'GET' }, handler as object))
          .to.throw(InvalidArgumentError, `handler.${name} must be a function`);
      }
      expect(pool.stats().totals.requests).to.equal(0);
    });

    it("undici's handlers' requests are handed to sockets together at the end of the turn; zeroCopy ones and get() at once", async () => {
      const { url } = await httpServer((_req, res) => res.end('ok'));
      const pool = backend.dispatcher({ baseURL: url, size: 4 });
      await pool.ready();
      const queued = (): number => pool.stats().totals.queued;
      const undiciForm = [send(pool, { origin: url, path: '/a', method: 'GET' }), send(pool, { origin: url, path: '/b', method: 'GET' })];
      const seen = [queued()];
      // The turn's end came before an immediate asked for after the calls, and took both.
      await new Promise<void>((resolve) => setImmediate(() => resolve(void seen.push(queued()))));
      expect(seen).to.deep.equal([2, 0]);
      expect(await Promise.all(undiciForm)).to.deep.equal([
        { status: 200, body: 'ok' },
        { status: 200, body: 'ok' },
      ]);
      const zeroCopy = send(pool, { origin: url, path: '/c', method: 'GET', zeroCopy: true });
      const got = pool.get('/d');
      expect(queued()).to.equal(0);
      expect(await zeroCopy).to.deep.include({ status: 200 });
      expect((await got).statusCode).to.equal(200);
    });
  });
}
