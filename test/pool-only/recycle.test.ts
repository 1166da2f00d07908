// Connection recycling (maxRequestsPerConn, maxConnAge) and multi-address dialing
// with a custom lookup. The balancing behaviour behind a real load balancer is in
// test/balance/.
import * as http from 'node:http';
import type * as net from 'node:net';
import { expect } from 'chai';
import { cleanup, httpServer, listen, lookupTo, pool, rawServer, subscribe } from '../helpers.js';

describe('recycling', () => {
  afterEach(cleanup);

  it('maxRequestsPerConn: the last request carries connection: close, then the slot re-dials; nothing fails', async () => {
    const seen: { conn: number; close: boolean }[] = [];
    let conns = 0;
    const { server, url } = await rawServer((socket, head) => {
      const close = /\r\nconnection: close\r\n/i.test(head);
      seen.push({ conn: (socket as net.Socket & { n?: number }).n!, close });
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 2\r\n${close ? 'connection: close\r\n' : ''}\r\nok`);
      if (close) socket.end();
    });
    server.on('connection', (s: net.Socket & { n?: number }) => (s.n = ++conns));
    const p = pool({ baseURL: url, size: 1, maxRequestsPerConn: 3 });
    for (let i = 0; i < 7; i++) expect((await p.get('/')).statusCode).to.equal(200);
    expect(seen.map((s) => s.conn)).to.deep.equal([1, 1, 1, 2, 2, 2, 3]);
    expect(seen.map((s) => s.close)).to.deep.equal([false, false, true, false, false, true, false]);
    expect(p.stats().totals).to.include({ errors: 0, requests: 7 });
  });

  it('maxConnAge: a socket older than the limit is recycled on its next request', async () => {
    let conns = 0;
    const closes: boolean[] = [];
    const { server, url } = await httpServer((req, res) => {
      closes.push(req.headers.connection === 'close');
      res.end('ok');
    });
    server.on('connection', () => conns++);
    const p = pool({ baseURL: url, size: 1, maxConnAge: 1 });
    await p.ready();
    // The condition is time itself: wait until the socket is past its age (at most 1.1 ms with jitter).
    while (p.stats().origins[0]!.sockets[0]!.ageMs < 2) await new Promise((r) => setTimeout(r, 2));
    await p.get('/');
    await p.get('/');
    expect(closes[0]).to.equal(true);
    expect(conns).to.equal(2);
  });

  it('recycling with pipelining answers the whole pipeline first', async () => {
    const heads: string[] = [];
    const { url } = await rawServer((socket, head) => {
      heads.push(head);
      if (heads.length === 3) {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\na'.repeat(2) + 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\nconnection: close\r\n\r\na');
        socket.end();
      }
    });
    const p = pool({ baseURL: url, size: 1, pipelining: 3, maxRequestsPerConn: 3 });
    const res = await Promise.all([p.get('/1'), p.get('/2'), p.get('/3')]);
    expect(res.map((r) => r.statusCode)).to.deep.equal([200, 200, 200]);
    expect(/connection: close/i.test(heads[2]!)).to.equal(true);
    expect(p.stats().totals.errors).to.equal(0);
  });
});

describe('multi-address dialing', () => {
  afterEach(cleanup);

  /** node:http servers on 127.0.0.1 and 127.0.0.2 on one port, answering with their own address. */
  async function twoAddresses(): Promise<number> {
    const { url } = await httpServer((req, res) => res.end(req.socket.localAddress));
    const port = Number(new URL(url).port);
    await listen(http.createServer((req, res) => res.end(req.socket.localAddress)), port, '127.0.0.2');
    return port;
  }

  it('slot i dials address i mod k of what lookup returns', async () => {
    const port = await twoAddresses();
    const calls = { n: 0 };
    const p = pool({ baseURL: `http://backends.test:${port}`, size: 4, lookup: lookupTo(['127.0.0.1', '127.0.0.2'], () => calls.n++) });
    await p.ready();
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) seen.push((await p.get('/')).text());
    expect(seen).to.deep.equal(['127.0.0.1', '127.0.0.2', '127.0.0.1', '127.0.0.2', '127.0.0.1', '127.0.0.2', '127.0.0.1', '127.0.0.2']);
    expect(calls.n, 'slots dialing together share one lookup').to.equal(1);
  });

  it('a slot whose address refuses connections moves on to the next address', async () => {
    const { url } = await httpServer((req, res) => res.end(req.socket.localAddress));
    const port = Number(new URL(url).port);
    // Nothing listens on 127.0.0.3 at that port.
    const p = pool({ baseURL: `http://backends.test:${port}`, size: 2, lookup: lookupTo(['127.0.0.1', '127.0.0.3']) });
    const first = await p.get('/');
    expect(first.text()).to.equal('127.0.0.1');
    // Slot 1 failed on 127.0.0.3; its next dial goes to 127.0.0.1.
    const all = await Promise.all([p.get('/'), p.get('/')]);
    expect(all.map((r) => r.text())).to.deep.equal(['127.0.0.1', '127.0.0.1']);
  });

  it('when the looked-up set changes, sockets are recycled to follow it, and nothing fails', async () => {
    const port = await twoAddresses();
    const addresses = ['127.0.0.1'];
    const p = pool({ baseURL: `http://backends.test:${port}`, size: 2, lookup: lookupTo(addresses), dnsRefreshInterval: 20 });
    await p.ready();
    expect((await p.get('/')).text()).to.equal('127.0.0.1');
    addresses.push('127.0.0.2');
    // The refresh notices the change and recycles the idle sockets: wait for a socket to connect to .2.
    await new Promise<void>((resolve) => subscribe('connect', (m) => (m as { remoteAddress: string }).remoteAddress === '127.0.0.2' && resolve()));
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((await p.get('/')).text());
    expect([...seen].sort()).to.deep.equal(['127.0.0.1', '127.0.0.2']);
    expect(p.stats().totals.errors).to.equal(0);
  });
});
