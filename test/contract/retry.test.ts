// The opt-in retry policy, on both backends: statuses and limits, Retry-After in
// seconds or as a date (and too long to wait for), the methods retried and
// `idempotent`, streamed bodies never retried, the whole-request timeout and signal
// across the waits, each attempt on the next socket, dispatch() and stream(), stats and
// the diagnostics channel.
import { expect } from 'chai';
import type * as http from 'node:http';
import { Readable } from 'node:stream';
import { AbortError, RequestTimeoutError, type Client, type PoolOptions } from '../../dist/index.js';
import { cleanup, httpServer, rejects, subscribe } from '../helpers.js';
import { BACKENDS } from './backends.js';

interface Hit {
  method: string;
  path: string;
  port: number;
}

/** A server that answers each path with the statuses of `plan` in turn (then 200), and records each request. */
async function planned(plan: Record<string, (number | [number, Record<string, string>])[]>): Promise<{ url: string; hits: Hit[] }> {
  const hits: Hit[] = [];
  const left = new Map(Object.entries(plan).map(([k, v]) => [k, [...v]]));
  const handler: http.RequestListener = (req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push({ method: req.method!, path: req.url!, port: req.socket.remotePort! });
      const next = left.get(req.url!)?.shift();
      const [status, headers] = next === undefined ? [200, {}] : typeof next === 'number' ? [next, {}] : next;
      res.writeHead(status, headers).end(`${status} #${hits.length}`);
    });
  };
  const { url } = await httpServer(handler);
  return { url, hits };
}

const fast = { limit: 3, minDelay: 1, maxDelay: 5 };

for (const backend of BACKENDS) {
  describe(`retry (${backend.name})`, () => {
    afterEach(cleanup);
    const make = (o: PoolOptions): Client => backend.pool({ size: 2, ...o });

    it('is off by default: a 503 is returned at once', async () => {
      const s = await planned({ '/a': [503] });
      const c = make({ baseURL: s.url });
      expect((await c.get('/a')).statusCode).to.equal(503);
      expect(s.hits).to.have.length(1);
    });

    it('retries 429/502/503/504 until a success; other statuses are returned', async () => {
      const s = await planned({ '/a': [503, 429, 502], '/b': [500], '/c': [504] });
      const c = make({ baseURL: s.url, retry: fast });
      const a = await c.get('/a');
      expect([a.statusCode, a.text()]).to.deep.equal([200, '200 #4']);
      expect((await c.get('/b')).statusCode).to.equal(500);
      expect((await c.get('/c')).statusCode).to.equal(200);
      expect(s.hits.map((h) => h.path)).to.deep.equal(['/a', '/a', '/a', '/a', '/b', '/c', '/c']);
      const st = c.stats();
      expect(st.totals.retries).to.equal(4);
      // A retried response is read to its end and discarded: its socket stays in use.
      expect(st.totals.reconnects).to.equal(0);
      expect(st.origins[0]!.sockets.reduce((n, k) => n + k.retries, 0)).to.equal(4);
    });

    it('returns the last response once the retries run out; a number is the limit with the defaults', async () => {
      const s = await planned({ '/a': [503, 503, 503, 503], '/b': [503] });
      const c = make({ baseURL: s.url, retry: { ...fast, limit: 2 } });
      const res = await c.get('/a');
      expect([res.statusCode, res.text()]).to.deep.equal([503, '503 #3']);
      const n = make({ baseURL: s.url, retry: 1 });
      expect((await n.get('/b')).statusCode).to.equal(200);
    });

    it('takes its own statuses', async () => {
      const s = await planned({ '/a': [500, 503] });
      const c = make({ baseURL: s.url, retry: { ...fast, statuses: [500] } });
      expect((await c.get('/a')).statusCode).to.equal(503);
      expect(s.hits).to.have.length(2);
    });

    it('sends each attempt on the next socket in the round-robin', async () => {
      const s = await planned({ '/a': [503, 503, 503] });
      const c = make({ baseURL: s.url, size: 3, retry: fast });
      await c.get('/a');
      const ports = s.hits.map((h) => h.port);
      expect(new Set(ports.slice(0, 3)).size).to.equal(3);
      expect(ports[3]).to.equal(ports[0]);
    });

    it('waits for Retry-After in seconds', async () => {
      const s = await planned({ '/a': [[503, { 'retry-after': '1' }]] });
      const delays: number[] = [];
      subscribe('request-retry', (m) => delays.push((m as { delayMs: number }).delayMs));
      const c = make({ baseURL: s.url, retry: fast });
      const t0 = Date.now();
      expect((await c.get('/a')).statusCode).to.equal(200);
      expect(Date.now() - t0).to.be.at.least(990);
      expect(delays).to.deep.equal([1000]);
    });

    it('waits for Retry-After as an HTTP date; one beyond maxRetryAfter is returned at once', async () => {
      const date = new Date(Date.now() + 3000).toUTCString();
      const s = await planned({ '/a': [[503, { 'retry-after': date }]], '/far': [[429, { 'retry-after': '3600' }]] });
      const messages: { delayMs: number; attempt: number; statusCode: number; request: { path: string } }[] = [];
      subscribe('request-retry', (m) => messages.push(m as (typeof messages)[number]));
      const c = make({ baseURL: s.url, retry: { ...fast, maxRetryAfter: 10_000 } });
      const far = await c.get('/far');
      expect(far.statusCode).to.equal(429);
      expect(messages).to.deep.equal([]);
      // The wait is the date's, not the 1-5 ms backoff: abort it, once it is known.
      const ac = new AbortController();
      const p = c.get('/a', { signal: ac.signal });
      await new Promise<void>((resolve) => {
        const t = setInterval(() => messages.length === 1 && (clearInterval(t), resolve()), 1);
      });
      ac.abort();
      await rejects(p, AbortError);
      expect(messages[0]!.delayMs).to.be.within(1000, 3000);
      expect([messages[0]!.attempt, messages[0]!.statusCode, messages[0]!.request.path]).to.deep.equal([1, 503, '/a']);
      expect(s.hits).to.have.length(2);
      expect(c.stats().origins[0]!.retryWaiting).to.equal(0);
    });

    it('retries GET HEAD OPTIONS PUT DELETE TRACE; POST and PATCH only with idempotent: true', async () => {
      const methods = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE', 'POST', 'PATCH'];
      const s = await planned(Object.fromEntries(methods.flatMap((m) => [[`/${m}`, [503]], [`/i${m}`, [503]]])));
      const c = make({ baseURL: s.url, retry: fast });
      const got: Record<string, number> = {};
      for (const m of methods) got[m] = (await c.request({ method: m, path: `/${m}` })).statusCode;
      expect(got).to.deep.equal({ GET: 200, HEAD: 200, OPTIONS: 200, PUT: 200, DELETE: 200, TRACE: 200, POST: 503, PATCH: 503 });
      expect((await c.post('/iPOST', 'x', { idempotent: true })).statusCode).to.equal(200);
      expect((await c.request({ method: 'PATCH', path: '/iPATCH', body: 'x', idempotent: true })).statusCode).to.equal(200);
      expect((await c.get('/iGET', { idempotent: false })).statusCode).to.equal(503);
    });

    it('never retries a streamed body', async () => {
      const s = await planned({ '/up': [503] });
      const c = make({ baseURL: s.url, retry: fast });
      const res = await c.request({ method: 'PUT', path: '/up', body: Readable.from([Buffer.from('abc')]), idempotent: true });
      expect(res.statusCode).to.equal(503);
      expect(s.hits).to.have.length(1);
    });

    it('a per-request retry replaces the pool\'s', async () => {
      const s = await planned({ '/a': [503], '/b': [503, 503] });
      const c = make({ baseURL: s.url, retry: fast });
      expect((await c.get('/a', { retry: false })).statusCode).to.equal(503);
      const none = make({ baseURL: s.url });
      expect((await none.get('/b', { retry: { ...fast, limit: 1 } })).statusCode).to.equal(503);
      expect(s.hits).to.have.length(3);
    });

    it('the whole-request timeout runs through the waits: RequestTimeoutError', async () => {
      const s = await planned({ '/a': [503, 503] });
      const c = make({ baseURL: s.url, retry: { limit: 3, minDelay: 60_000, maxDelay: 60_000 } });
      const err = await rejects(c.get('/a', { timeout: 200 }), RequestTimeoutError, 'HCP_REQUEST_TIMEOUT');
      expect(err.phase).to.equal('queue');
      expect(s.hits).to.have.length(1);
      // Nothing is left waiting (or holding the process).
      expect(c.stats().origins[0]!.retryWaiting).to.equal(0);
    });

    it('destroy() fails a request waiting to be retried', async () => {
      const s = await planned({ '/a': [503] });
      const c = make({ baseURL: s.url, retry: { limit: 3, minDelay: 60_000, maxDelay: 60_000 } });
      const p = c.get('/a');
      const caught = p.catch((e: Error) => e);
      while (c.stats().origins[0]!.retryWaiting === 0) await new Promise((r) => setTimeout(r, 1));
      c.destroy();
      expect(((await caught) as unknown as { code: string }).code).to.equal('HCP_POOL_DESTROYED');
    });

    it('dispatch(): the handler sees only the last attempt (onRequestStart once)', async () => {
      const s = await planned({ '/a': [503, 503] });
      const c = make({ baseURL: s.url, retry: fast });
      const events: string[] = [];
      await new Promise<void>((resolve, reject) => {
        c.dispatch(
          { method: 'GET', path: '/a' },
          {
            onRequestStart: () => events.push('start'),
            onResponseStart: (_c, status) => events.push(`head ${status}`),
            onResponseData: (_c, chunk) => events.push(`data ${chunk.toString()}`),
            onResponseEnd: () => resolve(),
            onResponseError: (_c, e) => reject(e),
          },
        );
      });
      expect(events).to.deep.equal(['start', 'head 200', 'data 200 #3']);
    });

    it('stream(): resolves with the attempt that is not retried', async () => {
      const s = await planned({ '/a': [502] });
      const c = make({ baseURL: s.url, retry: fast });
      const res = await c.stream({ method: 'GET', path: '/a' });
      expect(res.statusCode).to.equal(200);
      let body = '';
      for await (const chunk of res.body) body += String(chunk);
      expect(body).to.equal('200 #2');
    });
  });
}
