// Origins other than the base URL's are forgotten once they have nothing left (no
// socket, nothing queued, in flight or dialing): stats() no longer shows them, their
// timers stop, their memory is freed, and using one again creates it afresh.
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { armedCount } from '../../dist/conn/timers.js';
import { ConnectError, PoolClosedError, SocketError, PoolDestroyedError, type Response } from '../../dist/index.js';
import { cleanup, freePort, httpServer, lookupTo, rejects, spawnChild, Tracker, turns } from '../helpers.js';
import { BACKENDS, supports } from './backends.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const childScript = path.join(here, 'lifecycle-child', 'origins.js');

/** Every host name is 127.0.0.1: origins that differ by name alone, all on one loopback port. */
const lookup = lookupTo(['127.0.0.1']);

/** A server answering 'ok' (or holding /hold until `release()`), with its connections tracked. */
async function server(extra: http.OutgoingHttpHeaders = {}): Promise<{ port: string; t: Tracker; hold: Promise<void>; release: () => void }> {
  const held: http.ServerResponse[] = [];
  let arrived!: () => void;
  const hold = new Promise<void>((resolve) => (arrived = resolve));
  const { server: s, url } = await httpServer((req, res) => {
    if (req.url !== '/hold') return void res.writeHead(200, extra).end('ok');
    held.push(res);
    arrived();
  });
  return {
    port: new URL(url).port,
    t: new Tracker(s),
    /** Resolves when a request for /hold has arrived. */
    hold,
    release: () => held.splice(0).forEach((r) => r.end('released')),
  };
}

const origins = (p: { stats(): { origins: { origin: string }[] } }): string[] => p.stats().origins.map((o) => o.origin);

for (const backend of BACKENDS) {
  describe(`${backend.name}: origins with nothing left are forgotten`, () => {
    afterEach(cleanup);
    /** Sockets a first request to a fresh origin of size 2 opens. */
    const dialed = supports(backend, 'eager-dial') ? 2 : 1;

    it('an origin whose idle sockets timed out leaves stats(), its timers stop, and using it again creates it afresh', async () => {
      const s = await server();
      const start = armedCount();
      const p = backend.pool({ size: 2, idleConnTimeout: 50, lookup, ...(backend.name === 'Pool' && { dnsRefreshInterval: 60_000 }) });
      const a = `http://a.test:${s.port}`;
      expect((await p.get(a + '/')).statusCode).to.equal(200);
      expect(origins(p)).to.deep.equal([a]);
      await s.t.until(() => s.t.connections === dialed && s.t.closed === dialed);
      await turns(2);
      expect(origins(p)).to.deep.equal([]);
      expect(armedCount(), 'idle and address-refresh timers left armed').to.equal(start);
      expect((await p.get(a + '/')).statusCode).to.equal(200);
      expect(origins(p)).to.deep.equal([a]);
      expect(p.stats().totals).to.include({ requests: 1, reconnects: 0 });
    });

    it('an origin whose every dial failed is forgotten once the request waiting on them failed', async () => {
      const p = backend.pool({ size: 2 });
      const down = `http://127.0.0.1:${await freePort()}`;
      await rejects(p.get(down + '/'), ConnectError, 'HCP_CONNECT');
      await turns(2);
      expect(origins(p)).to.deep.equal([]);
    });

    it('an origin whose socket broke under its last request is forgotten once that request failed', async () => {
      const { server: srv, url } = await httpServer((req) => req.socket.destroy());
      const t = new Tracker(srv);
      const p = backend.pool({ size: 1 });
      await rejects(p.post(url + '/'), SocketError, 'HCP_SOCKET');
      await t.until(() => t.closed === t.connections);
      await turns(2);
      expect(origins(p)).to.deep.equal([]);
    });

    it("the base URL's origin is kept, another origin of the same client is forgotten", async () => {
      const s = await server();
      const base = `http://127.0.0.1:${s.port}`;
      const other = `http://b.test:${s.port}`;
      const p = backend.pool({ baseURL: base, size: 1, idleConnTimeout: 50, lookup });
      await Promise.all([p.get('/'), p.get(other + '/')]);
      expect(origins(p)).to.deep.equal([base, other]);
      await s.t.until(() => s.t.connections === 2 && s.t.closed === 2);
      await turns(2);
      expect(origins(p)).to.deep.equal([base]);
      expect(p.stats().origins[0]!.sockets.map((x) => x.state)).to.deep.equal(['dead']);
      expect((await p.get('/')).statusCode).to.equal(200);
    });

    it('requests sent as the last socket closes are never lost: each goes to the old origin or a fresh one', async () => {
      // Every response closes its socket, so each request meets an origin that is just
      // being emptied: sent from the caller's continuation, or a turn later.
      const s = await server({ connection: 'close' });
      const p = backend.pool({ size: 1, lookup });
      const a = `http://c.test:${s.port}/`;
      for (let i = 0; i < 20; i++) {
        const res: Response = await p.get(a);
        expect(res.statusCode).to.equal(200);
        if (i % 2 === 1) await turns(2);
      }
      await s.t.until(() => s.t.closed === s.t.connections);
      await turns(2);
      expect(origins(p)).to.deep.equal([]);
    });

    it('close() waits for the origins still in use after others were forgotten, then refuses them all', async () => {
      const s = await server();
      const p = backend.pool({ size: 1, idleConnTimeout: 50, lookup });
      const gone = `http://gone.test:${s.port}/`;
      const busy = `http://busy.test:${s.port}/hold`;
      await p.get(gone);
      await s.t.until(() => s.t.closed === s.t.connections);
      await turns(2);
      expect(origins(p)).to.deep.equal([]);
      const held = p.get(busy);
      await s.hold;
      let closed = false;
      const closing = p.close().then(() => void (closed = true));
      await turns(2);
      expect(closed).to.equal(false);
      s.release();
      expect((await held).text()).to.equal('released');
      await closing;
      await rejects(p.get(gone), PoolClosedError, 'HCP_POOL_CLOSED');
    });

    it('destroy() fails the origins still in use after others were forgotten, then refuses them all', async () => {
      const s = await server();
      const p = backend.pool({ size: 1, idleConnTimeout: 50, lookup });
      const gone = `http://gone.test:${s.port}/`;
      await p.get(gone);
      await s.t.until(() => s.t.closed === s.t.connections);
      await turns(2);
      expect(origins(p)).to.deep.equal([]);
      const held = p.get(`http://busy.test:${s.port}/hold`);
      await s.hold;
      p.destroy();
      await rejects(held, PoolDestroyedError, 'HCP_POOL_DESTROYED');
      await rejects(p.get(gone), PoolDestroyedError, 'HCP_POOL_DESTROYED');
      await p.close();
    });

    it('1,000 origins whose sockets closed: none left in stats(), and the heap is back where it was', async function () {
      this.timeout(60_000);
      const s = await server();
      // Warm-up batch, then 4 batches of 250 origins, each closed before the next.
      const child = spawnChild(childScript, [backend.name, s.port, '4', '250'], { execArgv: ['--expose-gc'] });
      for (;;) {
        const m = await child.message<{ op: string; connections: number }>().catch(() => null);
        if (m === null) break;
        // Every connection the client made has reached the server: close them all.
        await s.t.until(() => s.t.connections >= m.connections);
        for (const sock of s.t.sockets) sock.destroy();
        child.send('closed');
      }
      const r = await child.exited;
      expect(r.err, 'child stderr').to.equal('');
      expect([r.code, r.signal]).to.deep.equal([0, null]);
      const out = JSON.parse(r.out) as {
        origins: number;
        live: number[];
        known: number;
        before: number;
        after: number;
        liveHeap: number;
        again: { origins: string[]; requests: number; reconnects: number };
      };
      const MiB = 1024 * 1024;
      const grown = (out.after - out.before) / MiB;
      const live = (out.liveHeap - out.before) / MiB;
      const numbers = `heap before ${(out.before / MiB).toFixed(2)} MiB, +${live.toFixed(2)} with 250 origins live, ${grown >= 0 ? '+' : ''}${grown.toFixed(2)} after all ${out.origins} closed`;
      expect(out.live, 'origins known while their sockets were open').to.deep.equal([250, 250, 250, 250]);
      expect(out.known, 'origins known after their sockets closed').to.equal(0);
      // The measurement can see origins at all: 250 live ones weigh well over a MiB.
      expect(live, numbers).to.be.above(1);
      expect(grown, numbers).to.be.below(1);
      expect(out.again).to.deep.equal({ origins: [`http://o250.test:${s.port}`], requests: 1, reconnects: 0 });
    });
  });
}
