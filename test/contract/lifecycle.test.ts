// close() and destroy(), for each backend: what happens to new, queued and in-flight
// requests and to the sockets, idempotence, and that a process using a client exits by
// itself afterwards.
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  HttpClientPoolError,
  PoolClosedError,
  PoolDestroyedError,
  type Response,
} from '../../dist/index.js';
import { cleanup, freePort, httpServer, rejects, settlement, spawnChild, turns, Waits, type Child, type ChildExit } from '../helpers.js';
import { BACKENDS, supports } from './backends.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const childScript = path.join(here, 'lifecycle-child', 'child.js');

/**
 * A node:http server that holds every response until the test releases it, and
 * tracks its connections. Waiting is on events (requests, closes), never on time.
 */
async function holdingServer(): Promise<{
  url: string;
  held: http.ServerResponse[];
  connections: net.Socket[];
  closed: () => number;
  until: (cond: () => boolean) => Promise<void>;
  release: (body?: string) => void;
}> {
  const held: http.ServerResponse[] = [];
  const connections: net.Socket[] = [];
  let closed = 0;
  const waits = new Waits();
  const { server, url } = await httpServer((_req, res) => {
    held.push(res);
    waits.notify();
  });
  server.on('connection', (s: net.Socket) => {
    connections.push(s);
    s.on('close', () => {
      closed++;
      waits.notify();
    });
    waits.notify();
  });
  return {
    url,
    held,
    connections,
    closed: () => closed,
    until: (cond) => waits.until(cond),
    release: (body = 'done') => {
      for (const res of held.splice(0)) res.end(body);
    },
  };
}

/** How a child ended; `hung`: it had not exited within 5 s and was killed. */
interface ChildResult extends ChildExit {
  hung: boolean;
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: lifecycle`, () => {
    afterEach(cleanup);

    describe('close()', () => {
      it('refuses new requests and ready() with PoolClosedError', async () => {
        const { url } = await httpServer((_req, res) => res.end('ok'));
        const p = backend.pool({ baseURL: url, size: 2 });
        await p.get('/');
        await p.close();
        const e1 = await rejects(p.get('/'), PoolClosedError, 'HCP_POOL_CLOSED');
        expect(e1.phase).to.equal('call');
        await rejects(p.post('/', 'x'), PoolClosedError, 'HCP_POOL_CLOSED');
        await rejects(p.request({ method: 'PUT', path: '/' }), PoolClosedError, 'HCP_POOL_CLOSED');
        await rejects(p.get(url + '/absolute'), PoolClosedError, 'HCP_POOL_CLOSED');
        await rejects(p.ready(), PoolClosedError, 'HCP_POOL_CLOSED');
      });

      it('lets in-flight and queued requests finish, then closes every socket', async () => {
        const srv = await holdingServer();
        const p = backend.pool({ baseURL: srv.url, size: 2 });
        const reqs = [p.get('/a'), p.get('/b'), p.get('/c')].map(settlement);
        await srv.until(() => srv.held.length === 2); // two in flight, one queued
        expect(p.stats().totals.queued).to.equal(1);
        const closing = settlement(p.close());
        // Already refusing new work while it drains.
        await rejects(p.get('/late'), PoolClosedError, 'HCP_POOL_CLOSED');
        await turns(10); // to show that nothing settled meanwhile
        expect(closing.settled, 'close() resolved with requests in flight').to.equal(false);
        expect(reqs.some((r) => r.settled)).to.equal(false);
        expect(srv.closed(), 'sockets closed while requests in flight').to.equal(0);

        srv.release();
        await srv.until(() => srv.held.length === 1); // the queued one reached the server
        await turns(10); // to show that nothing settled meanwhile
        expect(closing.settled, 'close() resolved with a request in flight').to.equal(false);
        srv.release();

        await Promise.all(reqs.map((r) => r.done));
        for (const r of reqs) {
          expect(r.error).to.equal(undefined);
          expect((r.value as Response).statusCode).to.equal(200);
        }
        await closing.done;
        expect(closing.error).to.equal(undefined);
        await srv.until(() => srv.closed() === srv.connections.length);
        expect(srv.connections).to.have.length(2);
        expect(p.stats().origins[0]!.sockets.map((s) => s.state)).to.deep.equal(['closed', 'closed']);
      });

      it('with nothing in flight resolves and closes the idle sockets', async () => {
        const srv = await holdingServer();
        const p = backend.pool({ baseURL: srv.url, size: 3 });
        const reqs = [p.get('/a'), p.get('/b'), p.get('/c')];
        await srv.until(() => srv.held.length === 3);
        srv.release();
        await Promise.all(reqs);
        expect(srv.connections).to.have.length(3);
        expect(srv.closed(), 'idle keep-alive sockets stay open').to.equal(0);
        await p.close();
        await srv.until(() => srv.closed() === 3);
        expect(p.stats().origins[0]!.sockets.map((s) => s.state)).to.deep.equal(['closed', 'closed', 'closed']);
      });

      it('closes the sockets ready() opened, of a client that never sent a request', async () => {
        const srv = await holdingServer();
        const p = backend.pool({ baseURL: srv.url, size: 3 });
        await p.ready();
        await srv.until(() => srv.connections.length === 3);
        await p.close();
        await srv.until(() => srv.closed() === 3);
      });

      it('is idempotent: a second close() returns and resolves too', async () => {
        const srv = await holdingServer();
        const p = backend.pool({ baseURL: srv.url, size: 1 });
        const req = settlement(p.get('/'));
        await srv.until(() => srv.held.length === 1);
        const c1 = settlement(p.close());
        const c2 = settlement(p.close());
        await turns(10); // to show that nothing settled meanwhile
        expect([c1.settled, c2.settled]).to.deep.equal([false, false]);
        srv.release();
        await Promise.all([c1.done, c2.done, req.done]);
        expect([c1.error, c2.error, req.error]).to.deep.equal([undefined, undefined, undefined]);
        await p.close();
      });
    });

    describe('destroy()', () => {
      it('rejects in-flight and queued requests at once with PoolDestroyedError and drops the sockets', async () => {
        const srv = await holdingServer();
        const p = backend.pool({ baseURL: srv.url, size: 2 });
        const inflight = [p.get('/a'), p.get('/b')];
        const queued = p.get('/c');
        await srv.until(() => srv.held.length === 2);
        p.destroy();
        for (const r of [...inflight, queued]) {
          const err = await rejects(r, PoolDestroyedError, 'HCP_POOL_DESTROYED');
          expect(err.origin).to.equal(srv.url);
        }
        // The server never answered, and it sees every connection closed.
        await srv.until(() => srv.closed() === 2);
        expect(srv.held).to.have.length(2);
      });

      it('after destroy(), calls and ready() reject with PoolDestroyedError and close() resolves', async () => {
        const { url } = await httpServer((_req, res) => res.end('ok'));
        const p = backend.pool({ baseURL: url, size: 1 });
        await p.get('/');
        p.destroy();
        await rejects(p.get('/'), PoolDestroyedError, 'HCP_POOL_DESTROYED');
        await rejects(p.post('/', { a: 1 }), PoolDestroyedError, 'HCP_POOL_DESTROYED');
        await rejects(p.ready(), PoolDestroyedError, 'HCP_POOL_DESTROYED');
        await p.close(); // resolves
        expect(() => p.destroy()).to.not.throw();
        await rejects(p.get('/'), PoolDestroyedError, 'HCP_POOL_DESTROYED');
      });

      it('destroy(err) rejects in-flight and queued requests, a dispatch and a pending ready() with err itself, untouched', async () => {
        const srv = await holdingServer();
        const p = backend.pool({ baseURL: srv.url, size: 1 });
        const inflight = settlement(p.get('/a'));
        const queued = settlement(p.get('/b'));
        let dispatched: Error | null = null;
        p.dispatch({ method: 'GET', path: '/c' }, { onResponseError: (_c, e) => void (dispatched = e) });
        await srv.until(() => srv.held.length === 1);
        const reason = new Error('shutting down');
        const keys = Object.keys(reason);
        p.destroy(reason);
        await Promise.all([inflight.done, queued.done]);
        expect(inflight.error).to.equal(reason);
        expect(queued.error).to.equal(reason);
        expect(dispatched).to.equal(reason);
        expect(Object.keys(reason), 'no origin, socketId or phase written on the caller\'s error').to.deep.equal(keys);
        // A ready() still waiting for its sockets when the pool is destroyed rejects with err too.
        const dialing = backend.pool({ baseURL: srv.url, size: 2 });
        const pending = settlement(dialing.ready());
        dialing.destroy(reason);
        await pending.done;
        expect(pending.error).to.equal(reason);
      });

      it('destroy(poolError) rejects with that very error', async () => {
        const srv = await holdingServer();
        const p = backend.pool({ baseURL: srv.url, size: 1 });
        const inflight = p.get('/a');
        await srv.until(() => srv.held.length === 1);
        const mine = new HttpClientPoolError('maintenance', 'APP_MAINTENANCE');
        p.destroy(mine);
        const err = await rejects(inflight, HttpClientPoolError, 'APP_MAINTENANCE');
        expect(err).to.equal(mine);
      });

      it('is idempotent, and destroy() during close() fails what close() waited for', async () => {
        const srv = await holdingServer();
        const p = backend.pool({ baseURL: srv.url, size: 1 });
        const inflight = settlement(p.get('/a'));
        await srv.until(() => srv.held.length === 1);
        const closing = settlement(p.close());
        await turns(10); // to show that nothing settled meanwhile
        expect(closing.settled).to.equal(false);
        p.destroy();
        expect(() => p.destroy()).to.not.throw();
        expect(() => p.destroy(new Error('again'))).to.not.throw();
        await Promise.all([inflight.done, closing.done]);
        expect(inflight.error).to.be.instanceOf(PoolDestroyedError);
        expect((inflight.error as PoolDestroyedError).code).to.equal('HCP_POOL_DESTROYED');
        expect(closing.error, 'close() resolves').to.equal(undefined);
        await p.close();
        await rejects(p.get('/'), PoolDestroyedError, 'HCP_POOL_DESTROYED');
        await srv.until(() => srv.closed() === 1);
      });

      it('each rejection of destroy() has its own origin and socketId', async () => {
        const a = await holdingServer();
        const b = await holdingServer();
        const p = backend.pool({ size: 2 });
        const onA = [p.get(a.url + '/0'), p.get(a.url + '/1')];
        const queuedA = p.get(a.url + '/q');
        const onB = p.get(b.url + '/0');
        await a.until(() => a.held.length === 2);
        await b.until(() => b.held.length === 1);
        p.destroy();
        const e0 = await rejects(onA[0]!, PoolDestroyedError, 'HCP_POOL_DESTROYED');
        const e1 = await rejects(onA[1]!, PoolDestroyedError, 'HCP_POOL_DESTROYED');
        const eq = await rejects(queuedA, PoolDestroyedError, 'HCP_POOL_DESTROYED');
        const eb = await rejects(onB, PoolDestroyedError, 'HCP_POOL_DESTROYED');
        expect([e0.origin, e0.socketId]).to.deep.equal([a.url, 0]);
        expect([e1.origin, e1.socketId]).to.deep.equal([a.url, 1]);
        expect([eq.origin, eq.socketId, eq.phase]).to.deep.equal([a.url, undefined, 'queue']);
        expect([eb.origin, eb.socketId]).to.deep.equal([b.url, 0]);
      });
    });

    describe('the process exits by itself afterwards', () => {
      // Every child runs in a process of its own (it must exit by itself); they run side
      // by side, started together before the tests, which each await one of them.
      const modes = [
        'close-after-request',
        'destroy-after-request',
        'idle-close',
        'unused-close',
        'connecting-close',
        'connecting-destroy',
        'request-dialing-destroy',
        'queued-aborted',
        'inflight-destroy',
      ];
      const results = new Map<string, Promise<ChildResult>>();
      const children: Child[] = [];
      let server: http.Server | null = null;

      /** Runs the child script; resolves with its exit code and output, or `hung` if it did not exit within 5 s. */
      function runChild(mode: string, url: string): Promise<ChildResult> {
        // Started before the tests, so the suite's after() owns it, not a test's cleanup.
        const child = spawnChild(childScript, [backend.name, mode, url], { ipc: false, killAfterTest: false });
        children.push(child);
        let killer: NodeJS.Timeout | undefined;
        const hung = new Promise<null>((resolve) => {
          killer = setTimeout(() => {
            child.process.kill('SIGKILL');
            resolve(null);
          }, 5000);
        });
        return Promise.race([child.exited, hung]).then(async (r) => {
          clearTimeout(killer);
          return r === null ? { ...(await child.exited), hung: true } : { ...r, hung: false };
        });
      }

      before(async () => {
        // Lives for the whole describe (not closed by the per-test cleanup).
        server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
          if (req.url === '/hold') return; // never answered
          res.end('ok');
        });
        await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
        const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
        const closed = `http://127.0.0.1:${await freePort()}`;
        for (const mode of modes) results.set(mode, runChild(mode, url));
        results.set('dial-failed', runChild('dial-failed', closed));
      });

      after(async () => {
        for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
        await Promise.all(results.values());
        if (server !== null) {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server!.close(() => resolve()));
        }
      });

      async function expectExit(mode: string): Promise<void> {
        const r = await results.get(mode)!;
        expect(r.hung, `child "${mode}" did not exit within 5 s; stdout: ${r.out} stderr: ${r.err}`).to.equal(false);
        expect(r.err, 'child stderr').to.equal('');
        expect(r.out.trim()).to.equal(`ok ${mode}`);
        expect([r.code, r.signal]).to.deep.equal([0, null]);
      }

      for (const mode of modes) it(mode, () => expectExit(mode));
      it('dial-failed (neither closed nor destroyed)', () => expectExit('dial-failed'));
    });
  });
}
