// HTTP/1.1 pipelining in Pool: several idempotent requests in flight on one socket,
// answered in order; unanswered ones go back to the pool when the socket fails.
import * as dc from 'node:diagnostics_channel';
import type * as net from 'node:net';
import { expect } from 'chai';
import { AbortError, InvalidArgumentError, NodePool, Pool, PoolDestroyedError, SocketError } from '../../dist/index.js';
import { cleanup, pathOf, pool, rawServer, rejects, reply, turns, until } from '../helpers.js';

/** A response whose body is the request path, so each answer shows whose it is. */
const echo = (head: string, extra = ''): string => reply(pathOf(head), extra);

describe('pipelining', () => {
  afterEach(cleanup);

  it('sends several GETs on one socket before any answer, and matches answers in order', async () => {
    const heads: string[] = [];
    let conn: net.Socket | null = null;
    const { url } = await rawServer((socket, head) => {
      conn = socket;
      heads.push(head);
      // Answer only once all four are in: that proves they were pipelined.
      if (heads.length === 4) socket.write(heads.map((h) => echo(h)).join(''));
    });
    const p = pool({ baseURL: url, size: 1, pipelining: 4 });
    const bodies = await Promise.all(['/a', '/b', '/c', '/d'].map((path) => p.get(path).then((r) => r.text())));
    expect(bodies).to.deep.equal(['/a', '/b', '/c', '/d']);
    expect(conn).to.not.equal(null);
    expect(p.stats().totals).to.include({ requests: 4, reconnects: 0 });
  });

  it('never has more than `pipelining` requests unanswered on a socket', async () => {
    const pending: [net.Socket, string][] = [];
    let most = 0;
    const { url } = await rawServer((socket, head) => {
      pending.push([socket, head]);
      most = Math.max(most, pending.length);
    });
    const p = pool({ baseURL: url, size: 1, pipelining: 2 });
    const all = Promise.all(['/1', '/2', '/3', '/4', '/5'].map((path) => p.get(path).then((r) => r.text())));
    for (let answered = 0; answered < 5; answered++) {
      await until(() => pending.length > 0 && (pending.length === 2 || answered >= 4));
      const [socket, head] = pending.shift()!;
      socket.write(echo(head));
    }
    expect(await all).to.deep.equal(['/1', '/2', '/3', '/4', '/5']);
    expect(most).to.equal(2);
  });

  it('does not pipeline a POST, nor anything behind it, until its answer', async () => {
    const seen: string[] = [];
    const held: (() => void)[] = [];
    const { url } = await rawServer((socket, head) => {
      seen.push(head.split(' ').slice(0, 2).join(' '));
      held.push(() => socket.write(echo(head)));
    });
    const p = pool({ baseURL: url, size: 1, pipelining: 4 });
    const a = p.get('/a');
    await until(() => seen.length === 1);
    const b = p.post('/b', 'x');
    const c = p.get('/c');
    await turns(2);
    expect(seen, 'the POST waits for the GET in flight').to.deep.equal(['GET /a']);
    held.shift()!();
    await a;
    await until(() => seen.length === 2);
    await turns(1);
    expect(seen, 'the GET waits behind the POST').to.deep.equal(['GET /a', 'POST /b']);
    held.shift()!();
    await b;
    await until(() => seen.length === 3);
    held.shift()!();
    expect((await c).text()).to.equal('/c');
  });

  it('large and small responses back to back in one write each reach their own request', async () => {
    const big = (path: string, n: number): Buffer => {
      const body = Buffer.alloc(n, path);
      return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${n}\r\n\r\n`), body]);
    };
    const heads: string[] = [];
    const { url } = await rawServer((socket, head) => {
      heads.push(head);
      if (heads.length === 4) {
        socket.write(Buffer.concat([big('x', 200_000), Buffer.from(echo(heads[1]!)), big('y', 70_000), Buffer.from(echo(heads[3]!))]));
      }
    });
    const p = pool({ baseURL: url, size: 1, pipelining: 4 });
    const got = await Promise.all(['/x', '/small', '/y', '/last'].map((path) => p.get(path).then((r) => r.body)));
    expect(got[0]!.equals(Buffer.alloc(200_000, 'x'))).to.equal(true);
    expect(got[1]!.toString()).to.equal('/small');
    expect(got[2]!.equals(Buffer.alloc(70_000, 'y'))).to.equal(true);
    expect(got[3]!.toString()).to.equal('/last');
  });

  it('a request-end subscriber that destroys the pool, with more answers in the same read, rejects the rest cleanly', async () => {
    const heads: string[] = [];
    const { url } = await rawServer((socket, head) => {
      heads.push(head);
      if (heads.length === 3) socket.write(heads.map((h) => echo(h)).join(''));
    });
    const p = pool({ baseURL: url, size: 1, pipelining: 3 });
    const onEnd = (): void => void p.destroy();
    dc.subscribe('http-client-pool:request-end', onEnd);
    try {
      const settled = await Promise.allSettled(['/a', '/b', '/c'].map((path) => p.get(path)));
      expect(settled[0]!.status).to.equal('fulfilled');
      for (const s of settled.slice(1)) {
        expect(s.status).to.equal('rejected');
        expect((s as PromiseRejectedResult).reason).to.be.instanceOf(PoolDestroyedError);
      }
    } finally {
      dc.unsubscribe('http-client-pool:request-end', onEnd);
    }
  });

  it('reads HEAD responses in the pipeline as bodiless', async () => {
    const heads: string[] = [];
    const { url } = await rawServer((socket, head) => {
      heads.push(head);
      if (heads.length < 3) return;
      socket.write(
        heads
          .map((h) => (h.startsWith('HEAD') ? 'HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n' : echo(h)))
          .join(''),
      );
    });
    const p = pool({ baseURL: url, size: 1, pipelining: 3 });
    const [a, h, b] = await Promise.all([p.get('/a'), p.request({ method: 'HEAD', path: '/h' }), p.get('/b')]);
    expect([a.text(), h.body.length, h.headers['content-length'], b.text()]).to.deep.equal(['/a', 0, '1000', '/b']);
  });

  it('resends the unanswered requests on a new socket when the socket dies after the first answer', async () => {
    const received: string[] = [];
    let connections = 0;
    const { server, url } = await rawServer((socket, head, index) => {
      received.push(head.split(' ')[1]!);
      // First connection: answer one, then die with two unanswered.
      if (connections > 1 || index === 0) socket.write(echo(head));
      else if (index === 2) socket.destroy();
    });
    server.on('connection', () => connections++);
    const p = pool({ baseURL: url, size: 1, pipelining: 3 });
    const bodies = await Promise.all(['/1', '/2', '/3'].map((path) => p.get(path).then((r) => r.text())));
    expect(bodies).to.deep.equal(['/1', '/2', '/3']);
    expect(received).to.deep.equal(['/1', '/2', '/3', '/2', '/3']);
    expect(connections).to.equal(2);
  });

  it('resends the requests behind a response that closes the connection', async () => {
    let connections = 0;
    const { server, url } = await rawServer((socket, head, index) => {
      if (connections === 1 && index === 0) socket.write(echo(head, 'connection: close\r\n'));
      else if (connections > 1) socket.write(echo(head));
    });
    server.on('connection', () => connections++);
    const p = pool({ baseURL: url, size: 1, pipelining: 2 });
    const bodies = await Promise.all(['/1', '/2'].map((path) => p.get(path).then((r) => r.text())));
    expect(bodies).to.deep.equal(['/1', '/2']);
    expect(connections).to.equal(2);
  });

  it('resends a request at most once: a second failure rejects it', async () => {
    const received: string[] = [];
    const { url } = await rawServer((socket, head) => {
      received.push(head.split(' ')[1]!);
      if (head.startsWith('GET /1 ')) socket.write(echo(head));
      else socket.destroy(); // /2 kills its connection, every time
    });
    const p = pool({ baseURL: url, size: 1, pipelining: 2 });
    const [a, b] = await Promise.allSettled([p.get('/1'), p.get('/2')]);
    expect(a.status).to.equal('fulfilled');
    expect(b.status).to.equal('rejected');
    expect((b as PromiseRejectedResult).reason).to.be.instanceOf(SocketError);
    expect(received.filter((r) => r === '/2')).to.have.length(2);
  });

  it('bytes after a response that closed the connection: the request they may answer is failed, never resent', async () => {
    const heads: string[] = [];
    const { url } = await rawServer((socket, head) => {
      heads.push(head);
      // The first answer closes the connection, yet the server starts on the second.
      if (heads.length === 2) socket.end(echo(heads[0]!, 'connection: close\r\n') + 'HTTP/1.1 200 OK\r\n');
      if (heads.length > 2) socket.write(echo(head));
    });
    const p = pool({ baseURL: url, size: 1, pipelining: 2 });
    const a = p.get('/a');
    const b = p.get('/b');
    const c = p.get('/c'); // behind both, no byte of its answer came: resent
    expect((await a).text()).to.equal('/a');
    const err = await rejects(b, SocketError, 'HCP_SOCKET');
    expect(err.message).to.not.match(/pipelined/);
    expect((await c).text()).to.equal('/c');
    expect(heads.filter((h) => h.startsWith('GET /b '))).to.have.length(1);
  });

  it('aborting a pipelined request drops the socket and resends the others', async () => {
    const held: [net.Socket, string][] = [];
    let connections = 0;
    const { server, url } = await rawServer((socket, head) => {
      if (connections === 1) held.push([socket, head]);
      else socket.write(echo(head));
    });
    server.on('connection', () => connections++);
    const p = pool({ baseURL: url, size: 1, pipelining: 3 });
    const ac = new AbortController();
    const first = p.get('/1');
    const second = p.get('/2', { signal: ac.signal });
    const third = p.get('/3');
    await until(() => held.length === 3);
    ac.abort();
    const err = await rejects(second, AbortError, 'ABORT_ERR');
    expect(err.phase).to.equal('headers');
    expect([(await first).text(), (await third).text()]).to.deep.equal(['/1', '/3']);
    expect(connections).to.equal(2);
  });

  it('refuses pipelining below 1, and NodePool refuses pipelining', () => {
    expect(() => new Pool({ pipelining: 0 })).to.throw(InvalidArgumentError, 'pipelining');
    expect(() => new NodePool({ pipelining: 2 })).to.throw(InvalidArgumentError, 'pipelining is a Pool-only option');
  });
});
