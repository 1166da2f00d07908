// Through real forward proxies (tinyproxy, squid; skipped with the reason printed where
// absent): requests in absolute form answered once each, POSTs included, although
// tinyproxy 1.11 closes its client connection after every response without saying so
// (the pool re-dials and loses or resends nothing it must not); https targets over one
// CONNECT tunnel per socket with the requests spread over the tunnels. The speed and
// CPU cost through them is measured by bench/proxy.mjs.
import { expect } from 'chai';
import type * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cleanup, fixture, httpServer, httpsServer } from '../helpers.js';
import { BACKENDS } from '../contract/backends.js';

interface Started {
  name?: string;
  url?: string;
  skip?: string;
  stop?: () => Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const proxiesModule = pathToFileURL(path.resolve(here, '../../bench/proxies.mjs')).href;
const ca = fixture('ca.pem');

function counting(): { handler: http.RequestListener; paths: Map<string, number>; ports: Map<number, number> } {
  const paths = new Map<string, number>();
  const ports = new Map<number, number>();
  return {
    paths,
    ports,
    handler: (req, res) => {
      req.resume();
      req.on('end', () => {
        paths.set(req.url!, (paths.get(req.url!) ?? 0) + 1);
        ports.set(req.socket.remotePort!, (ports.get(req.socket.remotePort!) ?? 0) + 1);
        res.end(`ok ${req.url}`);
      });
    },
  };
}

for (const which of ['tinyproxy', 'squid'] as const) {
  describe(`through ${which}`, function () {
    this.timeout(30_000);
    let proxy: Started = {};

    before(async function () {
      const mod = (await import(proxiesModule)) as { startTinyproxy: () => Promise<Started>; startSquid: () => Promise<Started> };
      proxy = await (which === 'tinyproxy' ? mod.startTinyproxy() : mod.startSquid());
      if (proxy.skip !== undefined) {
        console.log(`      skipped: ${proxy.skip}`);
        this.skip();
      }
    });
    after(async () => proxy.stop?.());
    afterEach(cleanup);

    for (const backend of BACKENDS) {
      it(`${backend.name}: http targets in absolute form, each request answered once, POSTs included`, async () => {
        const target = counting();
        const { url } = await httpServer(target.handler);
        const c = backend.pool({ baseURL: url, size: 4, proxy: proxy.url! });
        const gets = Array.from({ length: 120 }, (_, i) => c.get(`/g${i}`));
        const posts = Array.from({ length: 40 }, (_, i) => c.post(`/p${i}`, `body ${i}`));
        const all = await Promise.all([...gets, ...posts]);
        expect(all.map((r) => r.statusCode)).to.deep.equal(all.map(() => 200));
        expect(all.map((r) => r.text()).slice(0, 2)).to.deep.equal(['ok /g0', 'ok /g1']);
        expect(target.paths.size).to.equal(160);
        expect([...target.paths.values()].every((n) => n === 1), 'a request the server saw twice').to.equal(true);
        expect(c.stats().totals.errors).to.equal(0);
      });

      it(`${backend.name}: https targets over one CONNECT tunnel per socket, requests spread over them`, async () => {
        const target = counting();
        const { port } = await httpsServer(target.handler);
        const c = backend.pool({ baseURL: `https://localhost:${port}`, size: 4, tls: { ca }, proxy: proxy.url! });
        await Promise.all(Array.from({ length: 40 }, (_, i) => c.get(`/c${i}`)));
        target.ports.clear();
        for (let i = 0; i < 20; i++) await c.get(`/s${i}`);
        expect([...target.ports.values()], 'requests per tunnel').to.deep.equal([5, 5, 5, 5]);
        expect(c.stats().totals.reconnects).to.equal(0);
      });
    }
  });
}
