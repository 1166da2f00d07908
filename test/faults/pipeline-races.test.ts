// Two races the reuse battery found in Pool, each with the server in another process
// (test/faults/race-server/, mode `cut`), so that it acts while the client's thread is busy:
// - A pipelined response cut short (head and half the body, then FIN or RST) with requests
//   pipelined behind it, under a mixed load (aborts before sending, in a microtask, at the
//   head and mid-body; POSTs; dispatch() calls): every request must settle, at once.
// - A `request-start` subscriber that aborts the request it hears of: that request fails
//   with AbortError alone (no TypeError, no unhandled rejection), and the pool serves on.
// NodePool runs the same (without pipelining).
import * as diagnostics from 'node:diagnostics_channel';
import { expect } from 'chai';
import { AbortError, type Client, type DispatchHandler } from '../../dist/index.js';
import { cleanup, defer, until, watchUnhandled } from '../helpers.js';
import { BACKENDS, supports } from '../contract/backends.js';
import { RaceServer } from './race-server/harness.js';
import { rng as prng } from '../fuzz/generator.js';

type Kind = 'get' | 'cut-fin' | 'cut-rst' | 'post' | 'abort-before' | 'abort-microtask' | 'dispatch' | 'dispatch-abort-head' | 'dispatch-abort-body';

function pick(r: number): Kind {
  if (r < 0.02) return 'cut-fin';
  if (r < 0.04) return 'cut-rst';
  if (r < 0.055) return 'post';
  if (r < 0.12) return 'abort-before';
  if (r < 0.16) return 'abort-microtask';
  if (r < 0.2) return 'dispatch-abort-head';
  if (r < 0.22) return 'dispatch-abort-body';
  if (r < 0.32) return 'dispatch';
  return 'get';
}

/** One request of kind `kind`; resolves when it settled, however it settled. */
function one(p: Client, kind: Kind, i: number): Promise<string> {
  const path = kind.startsWith('cut-') ? `/${kind}?i=${i}` : `/${kind}?i=${i}`;
  const settle = (x: Promise<unknown>): Promise<string> =>
    x.then(
      () => 'ok',
      (e: { code?: string }) => String(e.code),
    );
  switch (kind) {
    case 'post':
      return settle(p.post(path, `body ${i}`));
    case 'abort-before': {
      const ac = new AbortController();
      ac.abort();
      return settle(p.get(path, { signal: ac.signal }));
    }
    case 'abort-microtask': {
      const ac = new AbortController();
      const r = p.get(path, { signal: ac.signal });
      queueMicrotask(() => ac.abort());
      return settle(r);
    }
    case 'dispatch':
    case 'dispatch-abort-head':
    case 'dispatch-abort-body':
      return new Promise((resolve) => {
        let ended = 0;
        const end = (how: string): void => {
          if (++ended === 1) resolve(how);
          else resolve('settled twice');
        };
        const handler: DispatchHandler = {
          onResponseStart: (c) => void (kind === 'dispatch-abort-head' && c.abort()),
          onResponseData: (c) => void (kind === 'dispatch-abort-body' && c.abort()),
          onResponseEnd: () => end('ok'),
          onResponseError: (_c, e) => end(String((e as { code?: string }).code)),
        };
        try {
          p.dispatch({ method: 'GET', path }, handler);
        } catch (e) {
          end(String((e as { code?: string }).code));
        }
      });
    default:
      return settle(p.get(path));
  }
}

describe('pipelined races with a server in another process', function () {
  this.timeout(60_000);
  afterEach(cleanup);

  for (const backend of BACKENDS) {
    describe(backend.name, () => {
      const pipelining = backend.name === 'Pool' ? 10 : 1;
      const N = 6000;
      const C = 128;

      it(`every request behind a response cut short settles: ${N} mixed requests at c=${C}, 16 sockets, pipelining ${pipelining}`, async () => {
        const server = await RaceServer.start('cut');
        const p = backend.pool({ baseURL: server.url, size: 16, ...(pipelining > 1 && { pipelining }) });
        const rand = prng(21);
        const kinds = Array.from({ length: N }, () => pick(rand()));
        const outcomes = new Map<string, number>();
        let started = 0;
        let settled = 0;
        const twice: number[] = [];
        const lane = async (): Promise<void> => {
          while (started < N) {
            const i = started++;
            const how = await one(p, kinds[i]!, i);
            settled++;
            if (how === 'settled twice') twice.push(i);
            const key = `${kinds[i]} ${how}`;
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          }
        };
        const lanes = Promise.all(Array.from({ length: C }, lane));
        // A hang shows as requests that never settle: wait for all of them, and on a limit far
        // beyond the run's length say how many were left and what the sockets were doing.
        await until(
          () => settled === N,
          () => `${N - settled} of ${N} requests never settled; sockets ${JSON.stringify(p.stats().origins[0]?.sockets.map((s) => [s.state, s.inFlight]))}`,
          20_000,
        );
        await lanes;
        expect(twice).to.deep.equal([]);
        // Each kind settled as it may: cut ones fail (or, reset before their head, are resent
        // and cut again), aborted ones fail with ABORT_ERR, the others succeed or fail with a
        // socket error when they were pipelined behind a cut response and may not be resent.
        for (const [key, n] of outcomes) {
          const [kind, how] = key.split(' ') as [Kind, string];
          const allowed = kind.startsWith('cut-')
            ? ['HCP_SOCKET']
            : kind.startsWith('abort') || kind.startsWith('dispatch-abort')
              ? ['ABORT_ERR', 'HCP_SOCKET', 'ok']
              : ['ok', 'HCP_SOCKET'];
          expect(allowed, `${n} × ${key}`).to.include(how);
        }
        // And the pool still serves.
        expect((await p.get('/after')).statusCode).to.equal(200);
      });

      it('a request-start subscriber that aborts its request: AbortError for it alone, and the pool serves on', async () => {
        const server = await RaceServer.start('cut');
        const p = backend.pool({ baseURL: server.url, size: 1 });
        const unhandled = watchUnhandled();
        const controllers = new Map<string, AbortController>();
        const onStart = (m: unknown): void => {
          const path = (m as { request: { path: string } }).request.path;
          controllers.get(path)?.abort();
        };
        diagnostics.subscribe('http-client-pool:request-start', onStart);
        defer(() => diagnostics.unsubscribe('http-client-pool:request-start', onStart));
        for (let round = 0; round < 3; round++) {
          const ac = new AbortController();
          const path = `/aborted-by-subscriber?round=${round}`;
          controllers.set(path, ac);
          const err = await p.get(path, { signal: ac.signal }).then(
            () => null,
            (e: Error) => e,
          );
          expect(err, `round ${round}`).to.be.instanceOf(AbortError);
          // The next three requests are answered.
          for (let k = 0; k < 3; k++) expect((await p.get(`/next?round=${round}&k=${k}`)).text()).to.equal(`GET /next?round=${round}&k=${k} HTTP/1.1`);
        }
        // A dispatched request aborted by the subscriber through its controller, too.
        const dispatched = await new Promise<string>((resolve) => {
          const ac = new AbortController();
          controllers.set('/dispatched', ac);
          p.dispatch({ method: 'GET', path: '/dispatched', signal: ac.signal }, { onResponseEnd: () => resolve('end'), onResponseError: (_c, e) => resolve(e.name) });
        });
        expect(dispatched).to.equal('AbortError');
        expect((await p.get('/last')).statusCode).to.equal(200);
        await new Promise((r) => setImmediate(r));
        expect(unhandled).to.deep.equal([]);
      });

      it('a request-start subscriber that aborts a pipelined request: the requests around it are answered on the same socket', async function () {
        if (!supports(backend, 'pipelining')) this.skip();
        const server = await RaceServer.start('cut');
        const p = backend.pool({ baseURL: server.url, size: 1, pipelining: 4 });
        await p.ready();
        const ac = new AbortController();
        const onStart = (m: unknown): void => {
          if ((m as { request: { path: string } }).request.path === '/second') ac.abort();
        };
        diagnostics.subscribe('http-client-pool:request-start', onStart);
        defer(() => diagnostics.unsubscribe('http-client-pool:request-start', onStart));
        const settled = await Promise.allSettled([p.get('/first'), p.get('/second', { signal: ac.signal }), p.get('/third')]);
        expect(settled.map((r) => (r.status === 'fulfilled' ? r.value.text() : (r.reason as Error).name))).to.deep.equal([
          'GET /first HTTP/1.1',
          'AbortError',
          'GET /third HTTP/1.1',
        ]);
        // The aborted one was never written: the socket was not dropped for it.
        expect(p.stats().origins[0]!.sockets[0]!.reconnects).to.equal(0);
        await server.barrier(p);
        expect(server.seen).to.not.include('GET /second');
      });
    });
  }
});
