// Node's own fetch (no undici import) through both backends: what each bundled undici
// asks of a dispatcher (undici 6 on Node 20 and 22 and 7 on Node 24 call the legacy
// handler style, undici 8 on Node 26 the new one). Headers both ways, a large body read
// slowly (chunks must be fetch's to keep), many at once, streamed request bodies, an
// abort mid-body, `origin` over `baseURL`, and the global dispatcher.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { expect } from 'chai';
import { getGlobalDispatcher, setGlobalDispatcher } from '../../dist/index.js';
import { cleanup, defer, httpServer } from '../helpers.js';
import { BACKENDS } from './backends.js';

const BIG = Buffer.alloc(8 << 20);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 31 + (i >> 13)) & 255;
const BIG_SHA = createHash('sha256').update(BIG).digest('hex');

/** Echoes method, path, headers and body as JSON; `/big` is 8 MiB; `/stall` sends half a body and waits. */
function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/big') {
    res.setHeader('content-length', BIG.length);
    res.end(BIG);
    return;
  }
  if (req.url === '/big-chunked') {
    for (let i = 0; i < BIG.length; i += 100_000) res.write(BIG.subarray(i, i + 100_000));
    res.end();
    return;
  }
  if (req.url === '/stall') {
    res.setHeader('content-length', 1000);
    res.write('x'.repeat(500));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.setHeader('x-method', req.method!);
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }));
  });
}

interface Echo {
  path: string;
  headers: Record<string, string>;
  body: string;
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: Node's fetch with { dispatcher: pool }`, function () {
    this.timeout(20_000);
    afterEach(cleanup);

    it('GET: request headers reach the server, response headers (repeated ones too) reach fetch', async () => {
      const { url } = await httpServer(handler);
      const pool = backend.dispatcher({ baseURL: url });
      const res = await fetch(`${url}/x?q=1`, { dispatcher: pool, headers: { 'x-mine': 'yes' } });
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-method')).to.equal('GET');
      expect(res.headers.getSetCookie()).to.deep.equal(['a=1', 'b=2']);
      const echo = (await res.json()) as Echo;
      expect(echo.path).to.equal('/x?q=1');
      expect(echo.headers['x-mine']).to.equal('yes');
    });

    for (const path of ['/big', '/big-chunked']) {
      it(`an 8 MiB body read slower than the socket arrives whole and unchanged (${path})`, async () => {
        const { url } = await httpServer(handler);
        const pool = backend.dispatcher({ baseURL: url });
        const res = await fetch(`${url}${path}`, { dispatcher: pool });
        const reader = res.body!.getReader();
        const hash = createHash('sha256');
        let n = 0;
        let reads = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          n += value.length;
          // The reader is slower than the socket (it stands for a slow consumer): fetch's
          // queue holds chunks meanwhile, and later socket reads must not change them.
          if (reads++ % 4 === 0) await new Promise<void>((r) => setTimeout(r, 5));
          hash.update(value);
        }
        expect(n).to.equal(BIG.length);
        expect(hash.digest('hex')).to.equal(BIG_SHA);
      });
    }

    it('100 fetches at once, each with its own body and headers, each get their own answer', async () => {
      const { url } = await httpServer(handler);
      const pool = backend.dispatcher({ baseURL: url, size: 4 });
      const answers = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const res = await fetch(`${url}/n${i}`, { dispatcher: pool, method: 'POST', body: `body ${i}`, headers: { 'x-i': String(i) } });
          return (await res.json()) as Echo;
        }),
      );
      answers.forEach((a, i) => {
        expect(a.path).to.equal(`/n${i}`);
        expect(a.body).to.equal(`body ${i}`);
        expect(a.headers['x-i']).to.equal(String(i));
      });
    });

    it('POST with a string body and with a ReadableStream body (duplex: half)', async () => {
      const { url } = await httpServer(handler);
      const pool = backend.dispatcher({ baseURL: url });
      const a = (await (await fetch(`${url}/s`, { dispatcher: pool, method: 'POST', body: 'plain text' })).json()) as Echo;
      expect(a.body).to.equal('plain text');
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode('streamed '));
          c.enqueue(new TextEncoder().encode('body'));
          c.close();
        },
      });
      const b = (await (await fetch(`${url}/r`, { dispatcher: pool, method: 'POST', body: stream, duplex: 'half' })).json()) as Echo;
      expect(b.body).to.equal('streamed body');
      expect(b.headers['transfer-encoding']).to.equal('chunked');
    });

    it('an abort mid-body rejects the read with AbortError, and the next fetch works', async () => {
      const { url } = await httpServer(handler);
      const pool = backend.dispatcher({ baseURL: url, size: 1 });
      const ac = new AbortController();
      const res = await fetch(`${url}/stall`, { dispatcher: pool, signal: ac.signal });
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(first.done).to.equal(false);
      ac.abort();
      let err: unknown = null;
      try {
        for (;;) if ((await reader.read()).done) break;
      } catch (e) {
        err = e;
      }
      expect((err as Error).name).to.equal('AbortError');
      const next = (await (await fetch(`${url}/after`, { dispatcher: pool })).json()) as Echo;
      expect(next.path).to.equal('/after');
    });

    it("fetch's origin wins over baseURL, and a pool without baseURL serves any origin", async () => {
      const { url } = await httpServer(handler);
      const other = await httpServer(() => {
        throw new Error('the baseURL origin must not be asked');
      });
      const withBase = backend.dispatcher({ baseURL: other.url });
      const a = (await (await fetch(`${url}/mine`, { dispatcher: withBase })).json()) as Echo;
      expect(a.path).to.equal('/mine');
      const bare = backend.dispatcher({});
      const b = (await (await fetch(`${url}/bare`, { dispatcher: bare })).json()) as Echo;
      expect(b.path).to.equal('/bare');
      expect(bare.stats().origins.map((o) => o.origin)).to.deep.equal([url]);
    });

    it('setGlobalDispatcher(pool): a plain fetch goes through the pool; null gives fetch back to Node', async () => {
      const { url } = await httpServer(handler);
      const pool = backend.dispatcher({});
      const before = getGlobalDispatcher();
      setGlobalDispatcher(pool);
      defer(() => setGlobalDispatcher(null));
      expect(getGlobalDispatcher()).to.equal(pool);
      const res = await fetch(`${url}/global`);
      expect(((await res.json()) as Echo).path).to.equal('/global');
      expect(pool.stats().origins.map((o) => o.origin)).to.deep.equal([url]);
      setGlobalDispatcher(null);
      expect(getGlobalDispatcher()).to.equal(before);
      await pool.close();
      // The pool is closed: only Node's own dispatcher can answer this one.
      const back = await fetch(`${url}/back`);
      expect(((await back.json()) as Echo).path).to.equal('/back');
    });
  });
}
