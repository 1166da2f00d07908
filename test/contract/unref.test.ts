// A client nobody calls close() on must not keep its process alive: idle sockets and
// eagerly dialed ones nobody waits for are unref'd. What a caller waits for (a request
// in flight or queued, a dial a request waits on, a pending ready()) must hold it.
// Each case runs a child process (lifecycle-child/unref.ts) that never closes its client.
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { cleanup, defer, httpServer, httpsServer, listen, spawnChild, Waits, type Child } from '../helpers.js';
import { BACKENDS, supports } from './backends.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const childScript = path.join(here, 'lifecycle-child', 'unref.js');

interface Servers {
  url: string;
  tlsURL: string;
  waits: Waits;
  /** Requests for /hold not answered yet. */
  held: http.ServerResponse[];
  /** TCP connections to the https origin whose handshake is held. */
  handshakes: net.Socket[];
  release(): void;
  /** Lets the held handshakes through, and every later one at once. */
  releaseHandshakes(): void;
}

async function servers(): Promise<Servers> {
  const waits = new Waits();
  const held: http.ServerResponse[] = [];
  const { url } = await httpServer((req, res) => {
    if (req.url !== '/hold') return void res.end('ok');
    held.push(res);
    waits.notify();
  });
  // The https origin: a front that accepts TCP and forwards nothing until released, so
  // a handshake stays unfinished for as long as the test wants.
  const { port: tlsPort } = await httpsServer((_req, res) => res.end('ok'));
  const handshakes: net.Socket[] = [];
  const forwarded: net.Socket[] = [];
  defer(() => forwarded.forEach((s) => s.destroy()));
  let releasing = false;
  const forward = (s: net.Socket): void => {
    const up = net.connect(tlsPort, '127.0.0.1');
    up.on('error', () => {});
    forwarded.push(up);
    s.pipe(up).pipe(s);
    s.resume();
  };
  const front = net.createServer({ pauseOnConnect: true }, (s) => {
    s.on('error', () => {});
    if (releasing) return forward(s);
    handshakes.push(s);
    waits.notify();
  });
  const frontPort = await listen(front);
  return {
    url,
    tlsURL: `https://127.0.0.1:${frontPort}`,
    waits,
    held,
    handshakes,
    release: () => {
      for (const res of held.splice(0)) res.end('released');
    },
    releaseHandshakes: () => {
      releasing = true;
      for (const s of handshakes.splice(0)) forward(s);
    },
  };
}

/** The child exited by itself, cleanly, having printed "ok <mode>". */
async function exitsCleanly(child: Child, mode: string): Promise<void> {
  const r = await child.exited;
  expect(r.err, 'child stderr').to.equal('');
  expect(r.out.trim()).to.equal(`ok ${mode}`);
  expect([r.code, r.signal]).to.deep.equal([0, null]);
}

/** The child is still alive now: it answers over its unref'd IPC channel. */
async function alive(child: Child): Promise<void> {
  child.send('ping');
  await child.message((m) => m === 'pong');
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: a client never closed does not keep the process alive`, function () {
    // A child that hangs fails its test at this timeout (and is killed after it).
    this.timeout(10_000);
    afterEach(cleanup);

    const run = (s: Servers, mode: string): Child => spawnChild(childScript, [backend.name, mode, s.url, s.tlsURL]);

    describe('exits by itself when nothing waits', () => {
      for (const mode of ['get', 'get-absolute', 'ready', 'queued', 'eager-tls', 'aborted-dial']) {
        it(mode, async () => {
          const s = await servers();
          await exitsCleanly(run(s, mode), mode);
        });
      }
    });

    describe('lives while a caller waits', () => {
      it('a request in flight', async () => {
        const s = await servers();
        const child = run(s, 'inflight');
        await s.waits.until(() => s.held.length === 1);
        await alive(child);
        s.release();
        await exitsCleanly(child, 'inflight');
      });

      it('a request in the queue behind one in flight', async () => {
        const s = await servers();
        const child = run(s, 'queued-held');
        await s.waits.until(() => s.held.length === 1);
        await alive(child);
        s.release();
        // The queued one now reached the server, over the same (only) socket.
        await s.waits.until(() => s.held.length === 1);
        await alive(child);
        s.release();
        await exitsCleanly(child, 'queued-held');
      });

      it('a request waiting on its socket\'s handshake', async () => {
        const s = await servers();
        const child = run(s, 'dial-tls');
        await s.waits.until(() => s.handshakes.length >= 1);
        await alive(child);
        s.releaseHandshakes();
        await exitsCleanly(child, 'dial-tls');
      });

      it('a pending ready()', async () => {
        const s = await servers();
        const child = run(s, 'ready-tls');
        await s.waits.until(() => s.handshakes.length === 2);
        await alive(child);
        s.releaseHandshakes();
        await exitsCleanly(child, 'ready-tls');
      });
    });
  });
}
