// Proxies, on both backends: requests in absolute form to http targets, one CONNECT
// tunnel per socket to https targets (TLS to the target inside it, with the test CA),
// Basic credentials to the proxy and never to the target, the proxy's refusals as
// ProxyError, an unreachable proxy named in its ConnectError, the environment's proxy
// variables with NO_PROXY, and the spread of requests over the tunnels.
import { expect } from 'chai';
import type * as http from 'node:http';
import type { TLSSocket } from 'node:tls';
import * as fs from 'node:fs';
import { createServer as netServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConnectError, ConnectTimeoutError, ProxyError, TLSError, type Client } from '../../dist/index.js';
import { causeCode, cleanup, defer, fixture, freePort, httpServer, httpsServer, rawServer, rejects, until } from '../helpers.js';
import { startProxy } from '../proxy.js';
import { BACKENDS, supports } from './backends.js';

const ca = fixture('ca.pem');

/** A target that answers with its connection's port and records what it saw. */
interface Seen {
  path: string;
  port: number;
  proxyAuth: string | undefined;
  host: string | undefined;
  /** The SNI name, on TLS. */
  servername: string | false | null | undefined;
}

function recorder(): { handler: http.RequestListener; seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    handler: (req, res) => {
      seen.push({ path: req.url!, port: req.socket.remotePort!, proxyAuth: req.headers['proxy-authorization'], host: req.headers.host, servername: (req.socket as TLSSocket).servername });
      res.end(`ok ${req.url}`);
    },
  };
}

async function all(c: Client, n: number, path = '/x'): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, async (_, i) => (await c.get(`${path}${i}`)).text()));
}

for (const backend of BACKENDS) {
  describe(`proxy (${backend.name})`, () => {
    afterEach(cleanup);

    it('sends http targets to the proxy in absolute form, with the credentials of its URL, over kept-alive connections', async () => {
      const target = recorder();
      const { url } = await httpServer(target.handler);
      const proxy = await startProxy({ auth: 'us@er:p:ss' });
      const c = backend.pool({ baseURL: url, size: 2, proxy: proxy.url.replace('//', '//us%40er:p%3Ass@') });
      for (let round = 0; round < 3; round++) expect(await all(c, 4)).to.deep.equal(['ok /x0', 'ok /x1', 'ok /x2', 'ok /x3']);
      expect(proxy.absolute).to.have.length(12);
      expect(proxy.absolute[0]).to.match(new RegExp(`^GET ${url}/x\\d HTTP/1.1$`));
      expect(new Set(proxy.auth)).to.deep.equal(new Set([`Basic ${Buffer.from('us@er:p:ss').toString('base64')}`]));
      expect(proxy.connections).to.equal(2);
      expect(target.seen.every((s) => s.proxyAuth === undefined && s.host === url.slice(7))).to.equal(true);
      expect(c.stats().origins[0]!.proxy).to.equal(proxy.url);
    });

    it('opens one CONNECT tunnel per socket to an https target and spreads the requests over them', async () => {
      const target = recorder();
      const { port } = await httpsServer(target.handler);
      const proxy = await startProxy({ auth: 'u:p' });
      const c = backend.pool({ baseURL: `https://localhost:${port}`, size: 4, tls: { ca }, proxy: { uri: proxy.url.replace('//', '//u:p@'), headers: { 'x-proxy-note': 'hi' } } });
      await all(c, 8); // concurrent: every socket opens its tunnel
      // One at a time with every socket free: request k goes to socket k mod 4.
      for (let i = 0; i < 20; i++) await c.get(`/seq${i}`);
      expect(proxy.tunnels).to.equal(4);
      expect(proxy.connects).to.deep.equal(Array(4).fill(`localhost:${port}`));
      expect(proxy.connectHeaders.every((h) => h['x-proxy-note'] === 'hi' && h['host'] === `localhost:${port}`)).to.equal(true);
      expect(proxy.absolute).to.deep.equal([]);
      const perTunnel = new Map<number, number>();
      for (const s of target.seen) perTunnel.set(s.port, (perTunnel.get(s.port) ?? 0) + 1);
      expect(perTunnel.size).to.equal(4);
      const seq = new Map<number, number>();
      for (const s of target.seen.slice(8)) seq.set(s.port, (seq.get(s.port) ?? 0) + 1);
      expect([...seq.values()]).to.deep.equal([5, 5, 5, 5]);
      expect(target.seen.every((s) => s.proxyAuth === undefined && s.servername === 'localhost')).to.equal(true);
    });

    it('opens its tunnels for ready(), which waits for all of them; the first requests use them', async () => {
      const target = recorder();
      const { port } = await httpsServer(target.handler);
      const proxy = await startProxy();
      const c = backend.pool({ baseURL: `https://localhost:${port}`, size: 3, tls: { ca }, proxy: proxy.url });
      await c.ready();
      expect(proxy.tunnels).to.equal(3);
      expect(c.stats().totals.connected).to.equal(3);
      await all(c, 3);
      expect(proxy.tunnels, 'no tunnel beside those ready() opened').to.equal(3);
      expect(target.seen.length).to.equal(3);
    });

    it('checks the target certificate inside the tunnel: a wrong name fails with the TLS error', async () => {
      const { port } = await httpsServer((_q, s) => s.end('no'));
      // The proxy takes wrong.test to the server, whose certificate names localhost and 127.0.0.1.
      const proxy = await startProxy({ resolve: () => '127.0.0.1' });
      const c = backend.pool({ size: 1, tls: { ca }, proxy: proxy.url });
      const err = await rejects(c.get(`https://wrong.test:${port}/`), TLSError, 'HCP_TLS');
      expect(causeCode(err)).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
      expect(proxy.connects).to.deep.equal([`wrong.test:${port}`]);
    });

    it('goes through an https proxy (TLS to the proxy) to https and http targets', async () => {
      const tlsTarget = recorder();
      const { port } = await httpsServer(tlsTarget.handler);
      const plain = recorder();
      const { url } = await httpServer(plain.handler);
      const proxy = await startProxy({ secure: true });
      const c = backend.pool({ size: 2, tls: { ca }, proxy: proxy.url });
      expect(await (await c.get(`https://localhost:${port}/a`)).text()).to.equal('ok /a');
      expect(await (await c.get(`${url}/b`)).text()).to.equal('ok /b');
      expect(proxy.tunnels).to.be.at.least(1);
      expect(proxy.absolute).to.deep.equal([`GET ${url}/b HTTP/1.1`]);
    });

    it('rejects with ProxyError 407 when the proxy wants credentials, and does not try the other sockets', async () => {
      const { port } = await httpsServer((_q, s) => s.end('no'));
      const proxy = await startProxy({ auth: 'u:p' });
      const c = backend.pool({ size: 3, tls: { ca }, proxy: proxy.url.replace('//', '//u:wrong@') });
      const err = await rejects(c.get(`https://localhost:${port}/`), ProxyError, 'HCP_PROXY');
      expect(err.statusCode).to.equal(407);
      expect(err.message).to.include(proxy.url);
      expect(err.message).not.to.include('wrong');
      // It fails on the socket it was first given, not moved on to the others; Pool dials its
      // 3 sockets at once anyway, NodePool only the one for the request.
      expect(err.socketId).to.equal(0);
      if (supports(backend, 'eager-dial')) expect(proxy.auth.length, 'CONNECTs the proxy saw').to.be.within(1, 3);
      else expect(proxy.auth.length, 'CONNECTs the proxy saw').to.equal(1);
      const { url } = await httpServer((_q, s) => s.end('no'));
      const err2 = await rejects(c.get(`${url}/plain`), ProxyError, 'HCP_PROXY');
      expect(err2.statusCode).to.equal(407);
    });

    it('rejects with ProxyError carrying the status when the proxy refuses the CONNECT', async () => {
      const { port } = await httpsServer((_q, s) => s.end('no'));
      const proxy = await startProxy({ refuseConnect: '403 Forbidden' });
      const c = backend.pool({ size: 1, tls: { ca }, proxy: proxy.url });
      const err = await rejects(c.get(`https://localhost:${port}/`), ProxyError, 'HCP_PROXY');
      expect(err.statusCode).to.equal(403);
      expect(err.message).to.include('403 Forbidden');
    });

    it('names the proxy, not the target, when the proxy is unreachable', async () => {
      const dead = await freePort();
      const c = backend.pool({ size: 1, proxy: `http://127.0.0.1:${dead}` });
      const err = await rejects(c.get('http://127.0.0.1:1/'), ConnectError, 'HCP_CONNECT');
      expect(err.message).to.include(`proxy http://127.0.0.1:${dead}`);
    });

    it('dialTimeout covers the way through the proxy: a proxy that never answers the CONNECT times out', async () => {
      const { port } = await rawServer(() => {}); // reads the CONNECT, answers nothing
      const c = backend.pool({ size: 1, dialTimeout: 150, proxy: `http://127.0.0.1:${port}` });
      const err = await rejects(c.get('https://localhost:1/'), ConnectTimeoutError, 'HCP_CONNECT_TIMEOUT');
      expect(err.phase).to.equal('dial');
    });

    it('ignores the proxy for a unix-socket target', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-proxy-'));
      defer(() => fs.rmSync(dir, { recursive: true, force: true }));
      const sock = path.join(dir, 's.sock');
      const server = netServer((s) => s.on('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nunix')));
      await new Promise<void>((r) => server.listen(sock, r));
      defer(() => new Promise<void>((r) => server.close(() => r())));
      const proxy = await startProxy();
      const c = backend.pool({ baseURL: 'http://unix.test', socketPath: sock, size: 1, proxy: proxy.url });
      expect(await (await c.get('/u')).text()).to.equal('unix');
      expect(proxy.connections).to.equal(0);
      expect(c.stats().origins[0]!.proxy).to.equal(null);
    });

    it('reads HTTP_PROXY / HTTPS_PROXY / NO_PROXY from proxyEnv, lowercase first', async () => {
      const target = recorder();
      const { url } = await httpServer(target.handler);
      const proxy = await startProxy();
      const wrong = await freePort();
      const via = backend.pool({ size: 1, proxyEnv: { HTTP_PROXY: `http://127.0.0.1:${wrong}`, http_proxy: proxy.url } });
      expect(await (await via.get(`${url}/via`)).text()).to.equal('ok /via');
      expect(proxy.absolute).to.have.length(1);
      const direct = backend.pool({ size: 1, proxyEnv: { http_proxy: proxy.url, NO_PROXY: `example.com, 127.0.0.1:${url.split(':')[2]}` } });
      expect(await (await direct.get(`${url}/direct`)).text()).to.equal('ok /direct');
      expect(proxy.absolute).to.have.length(1);
      expect(direct.stats().origins[0]!.proxy).to.equal(null);
    });

    it('reads process.env when NODE_USE_ENV_PROXY=1 and no proxy option is given', async () => {
      const target = recorder();
      const { url } = await httpServer(target.handler);
      const proxy = await startProxy();
      const saved = { use: process.env['NODE_USE_ENV_PROXY'], http: process.env['http_proxy'] };
      process.env['NODE_USE_ENV_PROXY'] = '1';
      process.env['http_proxy'] = proxy.url;
      let c: Client;
      let off: Client;
      try {
        c = backend.pool({ size: 1 });
        process.env['NODE_USE_ENV_PROXY'] = '0';
        off = backend.pool({ size: 1 });
      } finally {
        for (const [k, v] of [['NODE_USE_ENV_PROXY', saved.use], ['http_proxy', saved.http]] as const) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
      await c.get(`${url}/env`);
      expect(proxy.absolute).to.deep.equal([`GET ${url}/env HTTP/1.1`]);
      await off.get(`${url}/off`);
      expect(proxy.absolute).to.have.length(1);
    });
  });
}

for (const backend of BACKENDS) {
  describe(`a peer that closes after each response without saying so (${backend.name})`, () => {
    afterEach(cleanup);

    it('learns it from the first close: then every request goes with connection: close on a fresh socket, POSTs answered once each', async () => {
      const perConnection: number[] = [];
      const heads: string[] = [];
      const { url } = await rawServer((socket, head, index) => {
        heads.push(head);
        perConnection[perConnection.length - (index === 0 ? 0 : 1)] = index + 1;
        // tinyproxy 1.11's way: a keep-alive response, then the connection closes.
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
      const c = backend.pool({ baseURL: url, size: 1 });
      await c.get('/first');
      await until(() => c.stats().totals.connected === 0 && c.stats().origins[0]!.sockets[0]!.state !== 'busy', 'the first socket closed');
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => c.post(`/p${i}`, `b${i}`).then((r) => r.text())));
      expect(answers).to.deep.equal(Array(12).fill('ok'));
      expect(heads).to.have.length(13);
      expect(perConnection.every((n) => n === 1), 'requests per connection').to.equal(true);
      // From the second request on at the latest (the first close may be seen just after the next request left).
      expect(heads.slice(2).every((h) => /\r\nconnection: close\r\n/i.test(h)), 'connection: close on the later requests').to.equal(true);
    });
  });
}
