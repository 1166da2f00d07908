import { expect } from 'chai';
import { cleanup, httpServer, pool, rawServer, until } from '../helpers.js';

describe('stats()', () => {
  afterEach(cleanup);

  it('reports each socket with its addresses, requests and bytes, and the totals', async () => {
    const { url } = await httpServer((_req, res) => res.end('hello'));
    const p = pool({ baseURL: url, size: 2 });
    await p.ready();
    for (let i = 0; i < 3; i++) await p.get('/');
    const { origins, totals } = p.stats();
    expect(origins).to.have.length(1);
    expect(origins[0]!.origin).to.equal(url);
    const [a, b] = origins[0]!.sockets;
    expect([a!.id, b!.id]).to.deep.equal([0, 1]);
    expect([a!.requests, b!.requests]).to.deep.equal([2, 1]);
    for (const s of [a!, b!]) {
      expect(s.state).to.equal('idle');
      expect(s.remoteAddress).to.equal('127.0.0.1');
      expect(s.remotePort).to.equal(Number(new URL(url).port));
      expect(s.localPort).to.be.a('number');
      expect(s.bytesIn).to.be.greaterThan(0);
      expect(s.bytesOut).to.be.greaterThan(0);
      expect(s.inFlight).to.equal(0);
    }
    expect(totals).to.include({ sockets: 2, connected: 2, requests: 3, inFlight: 0, queued: 0, errors: 0, reconnects: 0 });
  });

  it('counts in-flight and queued requests, reconnects and errors', async () => {
    const held: (() => void)[] = [];
    const { url } = await rawServer((socket, _head, index) => {
      // The first request of each connection is held; a second one breaks the connection.
      if (index === 0) held.push(() => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
      else socket.destroy();
    });
    const p = pool({ baseURL: url, size: 1 });
    const first = p.get('/');
    const second = p.get('/');
    await until(() => held.length !== 0, 'a request held');
    let t = p.stats().totals;
    expect(t).to.include({ inFlight: 1, queued: 1 });
    held.shift()!();
    await first;
    await until(() => held.length !== 0, 'a request held');
    held.shift()!();
    await second;
    t = p.stats().totals;
    expect(t).to.include({ inFlight: 0, queued: 0, requests: 2, reconnects: 1 });
  });
});
