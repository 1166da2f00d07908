// pool.dispatch(init, handler) in its zero-copy form (`zeroCopy: true`) on both backends, against loopback servers: the order of
// the handler's calls, one handler object reused for request after request, bodies
// delivered as they arrive, backpressure (a paused response holds the server back),
// abort mid-body, handlers that throw, and bad calls refused at the call.
import * as net from 'node:net';
import { expect } from 'chai';
import {
  AbortError,
  BodyTimeoutError,
  HandlerError,
  InvalidArgumentError,
  PoolClosedError,
  type DispatchController,
  type DispatchHandler,
  type HttpClientPoolError,
} from '../../dist/index.js';
import { cleanup, listen, rawServer, readRequests, reply, until } from '../helpers.js';
import { BACKENDS } from './backends.js';

/** A handler that writes down every call, and settles a promise at the end or the error. */
class Recorder implements DispatchHandler {
  calls: string[] = [];
  status = 0;
  headers: string[] = [];
  body: Buffer[] = [];
  trailers: readonly string[] = [];
  error: HttpClientPoolError | null = null;
  controllers = new Set<DispatchController>();
  done: Promise<void>;
  private finish!: () => void;
  constructor() {
    this.done = new Promise((r) => (this.finish = r));
  }
  onRequestStart(c: DispatchController): void {
    this.controllers.add(c);
    this.calls.push('start');
  }
  onResponseStart(c: DispatchController, status: number, raw: string[], message: string): void {
    this.controllers.add(c);
    this.calls.push(`head ${status} ${message}`);
    this.status = status;
    this.headers = raw;
  }
  onResponseData(c: DispatchController, chunk: Buffer): void {
    this.controllers.add(c);
    if (this.calls[this.calls.length - 1] !== 'data') this.calls.push('data');
    this.body.push(Buffer.from(chunk)); // a view valid only during the call: copied
  }
  onResponseEnd(c: DispatchController, trailers: readonly string[]): void {
    this.controllers.add(c);
    this.calls.push('end');
    this.trailers = trailers;
    this.finish();
  }
  onResponseError(c: DispatchController, error: Error): void {
    const err = error as HttpClientPoolError; // ours: the pool is never destroyed with an error of the test's
    this.controllers.add(c);
    this.calls.push(`error ${err.code}`);
    this.error = err;
    this.finish();
  }
  get text(): string {
    return Buffer.concat(this.body).toString('latin1');
  }
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: dispatch()`, function () {
    this.timeout(10_000);
    afterEach(cleanup);

    for (const [kind, answer, body, trailers] of [
      ['Content-Length', reply('hello'), 'hello', []],
      ['chunked with a trailer', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\nx-t: 1\r\n\r\n', 'hello', ['x-t', '1']],
      ['close-delimited', 'HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nhello', 'hello', []],
      ['empty, 204', 'HTTP/1.1 204 No Content\r\n\r\n', '', []],
    ] as const) {
      it(`${kind}: start, head, data, end, in that order, with one controller`, async () => {
        const { url } = await rawServer((socket) => {
          if (answer.includes('connection: close')) socket.end(answer);
          else socket.write(answer);
        });
        const p = backend.pool({ zeroCopy: true, baseURL: url, size: 1 });
        const r = new Recorder();
        p.dispatch({ method: 'GET', path: '/a' }, r);
        await r.done;
        const status = answer.split(' ')[1]!;
        expect(r.calls).to.deep.equal(body === '' ? ['start', `head ${status} ${answer.slice(13, answer.indexOf('\r'))}`, 'end'] : ['start', `head ${status} OK`, 'data', 'end']);
        expect(r.text).to.equal(body);
        expect([...r.trailers]).to.deep.equal(trailers);
        expect(r.controllers.size).to.equal(1);
      });
    }

    it('one handler object serves request after request, each chained from the end of the last', async () => {
      const { url } = await rawServer((socket, head) => socket.write(reply(`answer ${head.split(' ')[1]}`)));
      const p = backend.pool({ zeroCopy: true, baseURL: url, size: 2 });
      const bodies: string[] = [];
      let current: Buffer[] = [];
      let n = 0;
      const done = new Promise<void>((resolve, reject) => {
        const handler: DispatchHandler = {
          onResponseData: (_c, chunk) => void current.push(Buffer.from(chunk)),
          onResponseEnd: () => {
            bodies.push(Buffer.concat(current).toString());
            current = [];
            if (++n === 20) resolve();
            else p.dispatch({ method: 'GET', path: `/r${n}` }, handler);
          },
          onResponseError: (_c, err) => reject(err),
        };
        p.dispatch({ method: 'GET', path: '/r0' }, handler);
      });
      await done;
      expect(bodies).to.deep.equal(Array.from({ length: 20 }, (_, i) => `answer /r${i}`));
    });

    it('a body is handed over as it arrives (server-sent-events style), not when it ends', async () => {
      let stream: net.Socket | null = null;
      const { url } = await rawServer((socket) => {
        stream = socket;
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n');
      });
      const p = backend.pool({ zeroCopy: true, baseURL: url, size: 1 });
      const r = new Recorder();
      p.dispatch({ method: 'GET', path: '/events' }, r);
      for (const event of ['data: one\n\n', 'data: two\n\n', 'data: three\n\n']) {
        await until(() => stream !== null, 'the request');
        stream!.write(`${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n`);
        // The client has this event before the server sends the next one.
        await until(() => r.text.endsWith(event), `event ${JSON.stringify(event)}`);
        expect(r.calls).to.not.include('end');
      }
      stream!.write('0\r\n\r\n');
      await r.done;
      expect(r.text).to.equal('data: one\n\ndata: two\n\ndata: three\n\n');
    });

    it('pause() holds the server back (backpressure down to TCP) and stops the body timer; resume() gets the rest', async () => {
      const size = 64 * 1024 * 1024;
      let sent = 0;
      /** The server's last write was refused (its buffer is full) and no 'drain' came since. */
      let blocked = false;
      const server = net.createServer((socket) => {
        socket.on('error', () => {});
        readRequests(socket, () => {
          socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n`);
          const piece = Buffer.alloc(1024 * 1024, 'z');
          const pump = (): void => {
            blocked = false;
            while (sent < size) {
              sent += piece.length;
              if (!socket.write(piece)) {
                blocked = true;
                return void socket.once('drain', pump);
              }
            }
          };
          pump();
        });
      });
      const port = await listen(server);
      const p = backend.pool({ zeroCopy: true, baseURL: `http://127.0.0.1:${port}`, size: 1, bodyTimeout: 200 });
      let received = 0;
      let chunks = 0;
      let controller: DispatchController | null = null;
      let outcome = '';
      p.dispatch(
        { method: 'GET', path: '/big' },
        {
          onResponseData(c, chunk) {
            received += chunk.length;
            // Paused a few reads in, when the body timer is running.
            if (++chunks === 4) {
              controller = c;
              c.pause();
              expect(c.paused).to.equal(true);
            }
          },
          onResponseEnd: () => void (outcome = 'end'),
          onResponseError: (_c, err) => void (outcome = (err as HttpClientPoolError).code),
        },
      );
      // Paused: the server's writes back up in its own buffer, far short of the whole body.
      await until(() => controller !== null && blocked, 'the server held back');
      const receivedWhilePaused = received;
      await new Promise((r) => setTimeout(r, 400)); // twice the body timeout, paused: it must not fire
      expect(outcome).to.equal('');
      expect(received).to.equal(receivedWhilePaused);
      expect(blocked, 'the server stayed blocked').to.equal(true);
      expect(sent).to.be.lessThan(size / 2);
      controller!.resume();
      await until(() => outcome !== '', 'the end');
      expect([outcome, received]).to.deep.equal(['end', size]);
    });

    it('abort() mid-body: onResponseError with AbortError, the socket dropped, the next request works', async () => {
      const { url } = await rawServer((socket, head) => {
        if (head.startsWith('GET /slow')) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npart');
        else socket.write(reply('next'));
      });
      const p = backend.pool({ zeroCopy: true, baseURL: url, size: 1 });
      const r = new Recorder();
      p.dispatch(
        { method: 'GET', path: '/slow' },
        {
          onResponseData: (c) => c.abort(new Error('enough')),
          onResponseError: (c, err) => r.onResponseError(c, err),
          onResponseEnd: (c, t) => r.onResponseEnd(c, t),
        },
      );
      await r.done;
      expect(r.error).to.be.instanceOf(AbortError);
      expect((r.error!.cause as Error).message).to.equal('enough');
      expect(r.calls).to.deep.equal(['error ABORT_ERR']);
      expect((await p.get('/next')).text()).to.equal('next');
      expect(p.stats().totals.reconnects).to.equal(1);
    });

    it('a controller kept past its request\'s end reaches nothing, while later requests run (Pool uses the settled request again)', async () => {
      let slow: net.Socket | null = null;
      const { url } = await rawServer((socket, head) => {
        if (head.startsWith('GET /slow')) {
          slow = socket;
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\npart');
        } else socket.write(reply('quick'));
      });
      const p = backend.pool({ zeroCopy: true, baseURL: url, size: 1 });
      const first = new Recorder();
      p.dispatch({ method: 'GET', path: '/first' }, first);
      await first.done;
      const stale = [...first.controllers][0]!;
      // A read after the first request settled: from here its object may serve another call.
      expect((await p.get('/between')).text()).to.equal('quick');
      const second = new Recorder();
      p.dispatch({ method: 'GET', path: '/slow' }, second);
      await until(() => second.text === 'part', 'the first part of /slow');
      stale.pause();
      stale.abort(new Error('too late'));
      expect(stale.aborted).to.equal(false);
      expect(stale.paused).to.equal(false);
      slow!.write('rest');
      await second.done;
      expect(second.error).to.equal(null);
      expect(second.text).to.equal('partrest');
      expect(second.controllers.has(stale)).to.equal(false);
    });

    it('a signal that fires mid-body aborts the same way', async () => {
      const { url } = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npart'));
      const p = backend.pool({ zeroCopy: true, baseURL: url, size: 1 });
      const ac = new AbortController();
      const r = new Recorder();
      const handler: DispatchHandler = { onResponseData: () => ac.abort(), onResponseError: (c, e) => r.onResponseError(c, e), onResponseEnd: (c, t) => r.onResponseEnd(c, t) };
      p.dispatch({ method: 'GET', path: '/x', signal: ac.signal }, handler);
      await r.done;
      expect(r.error).to.be.instanceOf(AbortError);
    });

    it('a handler that throws ends its request with HandlerError (the throw as cause); one that throws at the end changes nothing', async () => {
      const { url } = await rawServer((socket) => socket.write(reply('hello')));
      const p = backend.pool({ zeroCopy: true, baseURL: url, size: 1 });
      const boom = new Error('boom');
      const r = new Recorder();
      p.dispatch(
        { method: 'GET', path: '/a' },
        {
          onResponseData: () => {
            throw boom;
          },
          onResponseEnd: (c, t) => r.onResponseEnd(c, t),
          onResponseError: (c, e) => r.onResponseError(c, e),
        },
      );
      await r.done;
      expect(r.error).to.be.instanceOf(HandlerError);
      expect(r.error!.code).to.equal('HCP_HANDLER');
      expect(r.error!.cause).to.equal(boom);
      expect(r.calls).to.deep.equal(['error HCP_HANDLER']);
      // Throwing from the end (or the error) call: the request is over, nothing is called again.
      const ends: string[] = [];
      await new Promise<void>((resolve) => {
        p.dispatch(
          { method: 'GET', path: '/b' },
          {
            onResponseEnd: () => {
              ends.push('end');
              setImmediate(resolve);
              throw boom;
            },
            onResponseError: () => void ends.push('error'),
          },
        );
      });
      expect(ends).to.deep.equal(['end']);
      expect((await p.get('/c')).text()).to.equal('hello');
    });

    it('server misbehaviour reaches onResponseError with the same classes and codes as get()', async () => {
      const { url } = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'));
      const p = backend.pool({ zeroCopy: true, baseURL: url, size: 1, bodyTimeout: 100 });
      const r = new Recorder();
      p.dispatch({ method: 'GET', path: '/stall' }, r);
      await r.done;
      expect(r.error).to.be.instanceOf(BodyTimeoutError);
      expect(r.calls).to.deep.equal(['start', 'head 200 OK', 'data', 'error HCP_BODY_TIMEOUT']);
    });

    it('bad calls throw at the call, and nothing is sent', async () => {
      let requests = 0;
      const { url } = await rawServer((socket) => {
        requests++;
        socket.write(reply());
      });
      const p = backend.pool({ zeroCopy: true, baseURL: url, size: 1 });
      expect(() => p.dispatch({ method: 'GET', path: '/a' }, null as unknown as DispatchHandler)).to.throw(InvalidArgumentError);
      expect(() => p.dispatch({ method: 'GET', path: '/a' }, { onResponseEnd: 'no' } as unknown as DispatchHandler)).to.throw(InvalidArgumentError, /onResponseEnd/);
      expect(() => p.dispatch({ method: 'G E T', path: '/a' }, {})).to.throw(InvalidArgumentError);
      expect(() => p.dispatch({ method: 'GET', path: '/a', headers: { 'x-bad': 'a\r\nb' } }, {})).to.throw(InvalidArgumentError);
      await p.close();
      expect(() => p.dispatch({ method: 'GET', path: '/a' }, {})).to.throw(PoolClosedError);
      expect(requests).to.equal(0);
    });
  });
}

describe('Pool: dispatch() hands over views, not copies', function () {
  afterEach(cleanup);

  it('a chunk of a Content-Length body is a view into the socket read buffer', async () => {
    const { url } = await rawServer((socket) => socket.write(reply('x'.repeat(1000))));
    const p = BACKENDS.find((b) => b.name === 'Pool')!.pool({ zeroCopy: true, baseURL: url, size: 1 });
    const views: { byteLength: number; poolSize: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      p.dispatch(
        { method: 'GET', path: '/' },
        {
          onResponseData: (_c, chunk) => void views.push({ byteLength: chunk.byteLength, poolSize: chunk.buffer.byteLength }),
          onResponseEnd: () => resolve(),
          onResponseError: (_c, e) => reject(e),
        },
      );
    });
    expect(views).to.have.length(1);
    expect(views[0]!.byteLength).to.equal(1000);
    expect(views[0]!.poolSize).to.equal(64 * 1024); // the slot's one read buffer
  });
});
