// Races between the server and a busy client, with the server in another process
// (test/faults/race-server/): it has to act while the client's thread is blocked.
// - A POST on a kept-alive socket the server closed while the client's thread was
//   blocked: the close is unread when the POST is made; the POST must not be lost.
// - An early answer to an upload (413 and close, the body unread): the client's write
//   fails while the answer is in the kernel; the answer must be delivered.
import { expect } from 'chai';
import { AbortError, SocketError, type Client, type Response } from '../../dist/index.js';
import { cleanup, fixture, rawServer, rejects, reply, Tracker } from '../helpers.js';
import { BACKENDS } from '../contract/backends.js';
import { RaceServer } from './race-server/harness.js';

/** How many of `promises` settle as a response with `status`, and what the others gave. */
async function outcome(promises: Promise<Response>[], status: number): Promise<{ ok: number; errors: string[] }> {
  const results = await Promise.allSettled(promises);
  let ok = 0;
  const errors: string[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled' && r.value.statusCode === status) ok++;
    else errors.push(r.status === 'fulfilled' ? `status ${r.value.statusCode}` : `${(r.reason as { code?: string }).code} (${(r.reason as { cause?: { code?: string } }).cause?.code})`);
  }
  return { ok, errors };
}

describe('races with a server in another process', function () {
  this.timeout(30_000);
  afterEach(cleanup);

  for (const backend of BACKENDS) {
    describe(backend.name, () => {
      describe('a POST on a kept-alive socket the server closed while the client was blocked', () => {
        const SIZE = 8;
        const ROUNDS = 3;

        it(`is not lost: ${SIZE} sockets, ${ROUNDS} rounds, each POST seen once by the server`, async () => {
          const server = await RaceServer.start('idle', '400');
          const pool = backend.pool({ baseURL: server.url, size: SIZE, requestTimeout: 5000 });
          await pool.ready();
          // Every socket serves once, so the POSTs below meet kept-alive sockets.
          const warm = await outcome(Array.from({ length: SIZE }, () => pool.get('/warm')), 200);
          expect(warm.errors).to.deep.equal([]);
          const posted: string[] = [];
          const lost: string[] = [];
          for (let round = 0; round < ROUNDS; round++) {
            // Here, in a callback of the poll phase (the last response was just read),
            // the thread blocks while the server closes all 8 idle sockets, then posts
            // on them at once: their FINs are in the kernel, unread.
            server.blockUntilClosed(SIZE * (round + 1));
            const posts: Promise<Response>[] = [];
            for (let i = 0; i < SIZE; i++) {
              const p = `/post?round=${round}&i=${i}`;
              posted.push(`POST ${p}`);
              posts.push(pool.post(p, `body ${round} ${i}`));
            }
            const r = await outcome(posts, 200);
            lost.push(...r.errors);
            if (lost.length !== 0) break; // lost POSTs re-dial no socket for the server to close
          }
          expect(lost, `${lost.length} of ${posted.length} POSTs lost`).to.deep.equal([]);
          await server.barrier(pool);
          expect(server.seen.filter((s) => s.startsWith('POST')).sort()).to.deep.equal([...posted].sort());
        });
      });

      it('a held POST can be aborted: it fails with AbortError, nothing is sent, the socket serves on', async () => {
        const { server, url } = await rawServer((socket, head) => socket.write(reply(head.split(' ')[1])));
        const tracker = new Tracker(server);
        const pool = backend.pool({ baseURL: url, size: 1, requestTimeout: 5000 });
        expect((await pool.get('/first')).text()).to.equal('/first');
        const ac = new AbortController();
        const held = pool.post('/aborted', 'x', { signal: ac.signal });
        ac.abort(); // the POST is waiting for the loop to read its kept-alive socket
        const err = await rejects(held, AbortError);
        expect(err.phase).to.equal('write');
        expect((await pool.post('/after', 'y')).text()).to.equal('/after');
        const sent = Buffer.concat(tracker.chunks.get(tracker.sockets[0]!) ?? []).toString('latin1');
        expect(sent).to.not.include('/aborted');
        expect(tracker.connections, 'the held POST and the next one use the kept-alive socket').to.equal(1);
      });

      describe('an early answer to an upload (413, Connection: close, 32 MiB of the body unread)', () => {
        const TIMES = 40;
        const body = Buffer.alloc(32 * 1024 * 1024, 0x61);

        for (const variant of ['fin', 'rst'] as const) {
          const how = variant === 'fin' ? 'ends (FIN) and then closes, resetting' : 'closes at once, resetting';
          it(`is delivered every time when the server ${how}: ${TIMES} uploads`, async function () {
            const server = await RaceServer.start('early', variant);
            const pool = backend.pool({ baseURL: server.url, size: 1, requestTimeout: 5000 });
            const bodies: string[] = [];
            const errors: string[] = [];
            for (let i = 0; i < TIMES; i++) {
              try {
                const res = await pool.post(`/upload?i=${i}`, body);
                expect(res.statusCode).to.equal(413);
                bodies.push(res.text());
              } catch (err) {
                errors.push(`${(err as { code?: string }).code} (${(err as { cause?: { code?: string } }).cause?.code})`);
              }
            }
            expect(errors, `${errors.length} of ${TIMES} uploads lost their answer`).to.deep.equal([]);
            expect(new Set(bodies)).to.deep.equal(new Set(['request entity too large\n']));
            await server.barrier(pool);
            // Each upload was sent once (an answered request is never resent).
            expect(server.seen.filter((s) => s.startsWith('POST'))).to.deep.equal(Array.from({ length: TIMES }, (_, i) => `POST /upload?i=${i}`));
          });
        }

        it('is delivered every time over TLS: 20 uploads of 8 MiB, the server closing at once', async () => {
          const server = await RaceServer.start('early', 'rst', 'tls');
          const pool = backend.pool({ baseURL: `https://localhost:${server.port}`, size: 1, tls: { ca: fixture('ca.pem') }, requestTimeout: 5000 });
          const upload = body.subarray(0, 8 * 1024 * 1024);
          const r = await outcome(Array.from({ length: 20 }, (_, i) => pool.post(`/upload?i=${i}`, upload)), 413);
          expect(r.errors, `${r.errors.length} of 20 uploads lost their answer`).to.deep.equal([]);
        });

        it('without an answer, fails with SocketError whose cause is the write error or the reset', async () => {
          const server = await RaceServer.start('early', 'none');
          const pool = backend.pool({ baseURL: server.url, size: 1, requestTimeout: 5000 });
          for (let i = 0; i < 10; i++) {
            const err = await rejects(pool.post(`/upload?i=${i}`, body), SocketError, 'HCP_SOCKET');
            const cause = err.cause as NodeJS.ErrnoException;
            expect(cause.code).to.be.oneOf(['EPIPE', 'ECONNRESET']);
          }
          await server.barrier(pool);
          expect(server.seen.filter((s) => s.startsWith('POST')).length).to.equal(10); // a POST is never resent
        });
      });
    });
  }
});
