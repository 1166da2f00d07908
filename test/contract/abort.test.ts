// AbortSignal on requests, for each backend: in flight, queued, already aborted,
// AbortSignal.timeout, after settlement, the reason as `cause`, and a signal that is
// not one.
import * as diagnostics from 'node:diagnostics_channel';
import * as net from 'node:net';
import { expect } from 'chai';
import { AbortError, InvalidArgumentError } from '../../dist/index.js';
import { cleanup, defer, listen, recordingServer, rejects, reply, serverConnections, turns, until, watchUnhandled } from '../helpers.js';
import { BACKENDS } from './backends.js';

for (const backend of BACKENDS) {
  describe(`${backend.name}: abort`, function () {
    this.timeout(3000);
    afterEach(cleanup);

    it('aborting in flight rejects with AbortError, drops the socket, and the slot re-dials for the next request', async () => {
      const srv = await recordingServer();
      const p = backend.pool({ baseURL: srv.url, size: 1 });
      const ac = new AbortController();
      const arrived = srv.next();
      const req = p.get('/hang', { signal: ac.signal });
      await arrived;
      ac.abort();
      const err = await rejects(req, AbortError, 'ABORT_ERR');
      expect(err.name).to.equal('AbortError');
      expect(err.phase).to.equal('headers');
      expect(err.socketId).to.equal(0);
      expect(err.origin).to.equal(srv.url);
      await srv.conns[0]!.closed;
      const res = await p.get('/after');
      expect(res.text()).to.equal('answer /after');
      expect(srv.conns.length).to.equal(2);
      expect(srv.heads[1]!.socket).to.equal(srv.conns[1]!.socket);
    });

    it('aborting while the body arrives rejects in phase body and drops the socket', async () => {
      const srv = await recordingServer((h) => (h.path === '/partial' ? 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nsome' : reply(`answer ${h.path}`)));
      const p = backend.pool({ baseURL: srv.url, size: 1 });
      const ac = new AbortController();
      const req = p.get('/partial', { signal: ac.signal });
      await srv.next();
      // The head is on its way; abort once the client has it (the slot's phase says so).
      await until(() => p.stats().origins[0]!.sockets[0]!.bytesIn !== 0, 'the client read the head');
      ac.abort();
      const err = await rejects(req, AbortError, 'ABORT_ERR');
      expect(err.phase).to.equal('body');
      await srv.conns[0]!.closed;
      expect((await p.get('/after')).text()).to.equal('answer /after');
    });

    it('aborting a queued request rejects in phase queue; it never reaches the server and the running one is unaffected', async () => {
      const srv = await recordingServer();
      const p = backend.pool({ baseURL: srv.url, size: 1 });
      const arrived = srv.next();
      const first = p.get('/hang1');
      const h1 = await arrived;
      const ac = new AbortController();
      const second = p.get('/second', { signal: ac.signal });
      expect(p.stats().totals.queued).to.equal(1);
      ac.abort();
      const err = await rejects(second, AbortError, 'ABORT_ERR');
      expect(err.phase).to.equal('queue');
      expect(err.socketId).to.equal(undefined);
      expect(err.origin).to.equal(srv.url);
      expect(p.stats().totals.queued).to.equal(0);
      // Release the first: it completes on its socket, which the aborted request never touched.
      h1.socket.write(reply('first'));
      expect((await first).text()).to.equal('first');
      expect(srv.paths()).to.deep.equal(['/hang1']);
      expect((await p.get('/third')).text()).to.equal('answer /third');
      expect(srv.paths()).to.deep.equal(['/hang1', '/third']);
      expect(srv.conns.length).to.equal(1);
      expect(srv.conns[0]!.isClosed).to.equal(false);
    });

    it('an already-aborted signal rejects at the call and sends nothing', async () => {
      const srv = await recordingServer();
      const p = backend.pool({ baseURL: srv.url, size: 1 });
      const ac = new AbortController();
      const reason = new Error('gave up before starting');
      ac.abort(reason);
      const err = await rejects(p.get('/never', { signal: ac.signal }), AbortError, 'ABORT_ERR');
      expect(err.name).to.equal('AbortError');
      expect(err.phase).to.equal('call');
      expect(err.origin).to.equal(srv.url);
      expect(err.cause).to.equal(reason);
      expect(p.stats().totals.queued).to.equal(0);
      expect(p.stats().totals.inFlight).to.equal(0);
      // The next request is the first the server ever sees.
      expect((await p.get('/first')).text()).to.equal('answer /first');
      expect(srv.paths()).to.deep.equal(['/first']);
    });

    it('an already-aborted signal on request() and post() rejects too', async () => {
      const srv = await recordingServer();
      const p = backend.pool({ baseURL: srv.url, size: 1 });
      const signal = AbortSignal.abort();
      await rejects(p.post('/never', { a: 1 }, { signal }), AbortError, 'ABORT_ERR');
      await rejects(p.request({ method: 'PUT', path: '/never', body: 'x', signal }), AbortError, 'ABORT_ERR');
      expect((await p.get('/first')).text()).to.equal('answer /first');
      expect(srv.paths()).to.deep.equal(['/first']);
    });

    it('AbortSignal.timeout aborts a request in flight, with the TimeoutError as cause', async () => {
      const srv = await recordingServer();
      const p = backend.pool({ baseURL: srv.url, size: 1 });
      const err = await rejects(p.get('/hang', { signal: AbortSignal.timeout(50) }), AbortError, 'ABORT_ERR');
      expect(err.phase).to.equal('headers');
      expect(err.socketId).to.equal(0);
      expect(err.cause).to.be.instanceOf(DOMException);
      expect((err.cause as DOMException).name).to.equal('TimeoutError');
      await srv.conns[0]!.closed;
    });

    it('signal.reason becomes err.cause for an in-flight abort', async () => {
      const srv = await recordingServer();
      const p = backend.pool({ baseURL: srv.url, size: 1 });
      const ac = new AbortController();
      const arrived = srv.next();
      const req = p.get('/hang', { signal: ac.signal });
      await arrived;
      const reason = { why: 'user navigated away' };
      ac.abort(reason);
      const err = await rejects(req, AbortError, 'ABORT_ERR');
      expect(err.cause).to.equal(reason);
    });

    it('a plain abort() gives the DOMException AbortError as cause', async () => {
      const srv = await recordingServer();
      const p = backend.pool({ baseURL: srv.url, size: 1 });
      const ac = new AbortController();
      const arrived = srv.next();
      const req = p.get('/hang', { signal: ac.signal });
      await arrived;
      ac.abort();
      const err = await rejects(req, AbortError, 'ABORT_ERR');
      expect(err.cause).to.equal(ac.signal.reason);
      expect((err.cause as DOMException).name).to.equal('AbortError');
    });

    it('aborting after the response settled is a no-op: no error, the socket stays for the next request', async () => {
      const seen = watchUnhandled();
      const srv = await recordingServer();
      const p = backend.pool({ baseURL: srv.url, size: 1 });
      const ac = new AbortController();
      const res = await p.get('/one', { signal: ac.signal });
      expect(res.text()).to.equal('answer /one');
      ac.abort();
      await turns(2);
      expect(seen).to.deep.equal([]);
      expect(p.stats().origins[0]!.sockets[0]!.state).to.equal('idle');
      expect((await p.get('/two')).text()).to.equal('answer /two');
      expect(srv.conns.length).to.equal(1);
      expect(srv.conns[0]!.isClosed).to.equal(false);
      expect(srv.heads.map((h) => h.index)).to.deep.equal([0, 1]); // same connection
    });

    it('a signal shared by several requests aborts each of them, in flight and queued', async () => {
      const srv = await recordingServer();
      const p = backend.pool({ baseURL: srv.url, size: 1 });
      const ac = new AbortController();
      const arrived = srv.next();
      const a = p.get('/hang-a', { signal: ac.signal });
      await arrived;
      const b = p.get('/b', { signal: ac.signal });
      ac.abort();
      expect((await rejects(a, AbortError, 'ABORT_ERR')).phase).to.equal('headers');
      await rejects(b, AbortError, 'ABORT_ERR');
      expect((await p.get('/c')).text()).to.equal('answer /c');
      expect(srv.paths()).to.deep.equal(['/hang-a', '/c']);
    });

    it('a signal shared by an in-flight and a queued request reports the queued one in phase queue', async () => {
      const srv = await recordingServer();
      const p = backend.pool({ baseURL: srv.url, size: 1 });
      const ac = new AbortController();
      const arrived = srv.next();
      const a = p.get('/hang-a', { signal: ac.signal });
      await arrived;
      const b = p.get('/b', { signal: ac.signal });
      ac.abort();
      await rejects(a, AbortError, 'ABORT_ERR');
      expect((await rejects(b, AbortError, 'ABORT_ERR')).phase).to.equal('queue');
    });

    it('aborting during the TLS handshake rejects in phase tls; the socket is dropped and nothing is unhandled', async () => {
      const seen = watchUnhandled();
      // Reads the ClientHello and never answers it.
      const server = net.createServer((s) => s.on('error', () => {}).resume());
      const conns = serverConnections(server);
      const port = await listen(server);
      // The abort is driven by the client's own TCP connect, not by the server seeing the
      // ClientHello: once every 'connect' listener has run, the slot is in its TLS phase
      // (its timer armed, the ClientHello written), and no timer can have fired before
      // this tick ends, however slow the machine. (Waiting for the server's 'data' let a
      // stalled loop run the due TLS timer first: a TLSTimeoutError instead.)
      const ac = new AbortController();
      let first = true;
      const onSocket = (m: unknown): void => {
        if (!first) return;
        first = false;
        (m as { socket: net.Socket }).socket.once('connect', () => process.nextTick(() => ac.abort()));
      };
      diagnostics.subscribe('net.client.socket', onSocket);
      defer(() => diagnostics.unsubscribe('net.client.socket', onSocket));
      const p = backend.pool({ baseURL: `https://127.0.0.1:${port}`, size: 1, tlsTimeout: 100 });
      const req = p.get('/', { signal: ac.signal });
      const err = await rejects(req, AbortError, 'ABORT_ERR');
      expect(err.phase).to.equal('tls');
      expect(err.socketId).to.equal(0);
      // The half-done handshake ends (at the abort or at the TLS timeout): its socket
      // closes, and its failure reaches no one.
      await conns[0]!.closed;
      await turns(2);
      expect(seen).to.deep.equal([]);
    });

    it('a signal that is not an AbortSignal is refused at the call with InvalidArgumentError', async () => {
      const srv = await recordingServer();
      const p = backend.pool({ baseURL: srv.url, size: 1 });
      for (const bad of ['abort', 42, { aborted: false }, { aborted: 'no', addEventListener() {} }]) {
        const err = await rejects(
          p.get('/never', { signal: bad as unknown as AbortSignal }),
          InvalidArgumentError,
          'HCP_INVALID_ARGUMENT',
        );
        expect(err.phase).to.equal('call');
      }
      expect((await p.get('/first')).text()).to.equal('answer /first');
      expect(srv.paths()).to.deep.equal(['/first']);
    });
  });
}
