// Fuzzing the raw pool's response path: a loopback server answers each request
// `GET /r/<id>` with the bytes of a seeded case (see generator.ts): a valid response
// carrying the id, or a mutated one, written in random splits. Requests run on several
// sockets, without and with pipelining (pipelining: 4). Invariants:
//   - every request settles exactly once (diagnostics_channel request-end/-error counts),
//     within the run's bound, and never through the guard timer (no hang);
//   - nothing escapes as an uncaught exception or unhandled rejection;
//   - a resolved response carries only its own request's id (x-id with a valid x-sig,
//     and the id at the start of the body): never another request's response;
//   - a rejection is an HttpClientPoolError with a known code;
//   - the pool stays usable: a final request to a well-behaved path succeeds.
// HCP_FUZZ_CASES (default 5000) and HCP_FUZZ_SEED (default fixed) change the run;
// a failure prints the seed and the case to replay.
import * as net from 'node:net';
import { expect } from 'chai';
import { HttpClientPoolError, Pool, RequestTimeoutError, type Response } from '../../dist/index.js';
import { cleanup, destroyAfterTest, listen, subscribe, turns, watchUnhandled } from '../helpers.js';
import { plan, sig, type Plan } from './generator.js';

const CASES = Number(process.env['HCP_FUZZ_CASES'] ?? 5000);
const SEED = Number(process.env['HCP_FUZZ_SEED'] ?? 0x5eed2024);
/** Guard timer on every request: with the server closing dirty connections nothing should ever reach it. */
const GUARD_MS = 10_000;
const KNOWN_CODES = new Set(['HCP_PARSE', 'HCP_SOCKET', 'HCP_UPGRADE', 'HCP_RESPONSE_TOO_LARGE']);

interface Case {
  index: number;
  id: string;
  plan: Plan;
}

/**
 * Serves the cases: per connection, request heads are answered in order; a plan that
 * closes ends the connection after its bytes; after a mutated plan the connection is
 * ended as soon as it has nothing left to answer (else a client waiting for body bytes
 * that will never come would hang until its guard timer).
 */
async function fuzzServer(cases: Map<string, Case>) {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let buffered = '';
    const pending: string[] = [];
    let writing = false;
    let dirty = false;
    let ended = false;
    const end = (): void => {
      ended = true;
      socket.end();
    };
    const pump = async (): Promise<void> => {
      if (writing) return;
      writing = true;
      while (pending.length !== 0 && !ended && !socket.destroyed) {
        const path = pending.shift()!;
        const c = cases.get(path.slice(3));
        if (c === undefined) {
          const body = `ok ${path}`;
          socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
          continue;
        }
        const { bytes, splits } = c.plan;
        let from = 0;
        for (const at of [...splits, bytes.length]) {
          if (socket.destroyed) break;
          socket.write(bytes.subarray(from, at));
          from = at;
          if (at !== bytes.length) await turns(1);
        }
        if (c.plan.close) end();
        else if (c.plan.mutated) dirty = true;
      }
      writing = false;
      if (dirty && !ended && pending.length === 0) {
        setImmediate(() => {
          if (!writing && pending.length === 0 && !ended) end();
        });
      }
    };
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      for (let e = buffered.indexOf('\r\n\r\n'); e >= 0; e = buffered.indexOf('\r\n\r\n')) {
        pending.push(buffered.slice(0, e).split(' ')[1]!);
        buffered = buffered.slice(e + 4);
      }
      void pump();
    });
  });
  const port = await listen(server);
  return `http://127.0.0.1:${port}`;
}

/** The id a response claims, when it claims one with a valid signature (header or body). */
function claimedIds(res: Response): string[] {
  const out: string[] = [];
  const h = res.headers;
  const id = h['x-id'];
  const s = h['x-sig'];
  if (typeof id === 'string' && typeof s === 'string' && sig(id) === s) out.push(id);
  const m = /^id=([^;]*);sig=([0-9a-f]{8});/.exec(res.body.toString('latin1'));
  if (m !== null && sig(m[1]!) === m[2]) out.push(m[1]!);
  return out;
}

describe('fuzz: mutated responses over several sockets, with and without pipelining', function () {
  this.timeout(Math.max(120_000, CASES * 20));
  afterEach(cleanup);

  it(`${CASES} seeded cases (seed ${SEED}): each request settles once, gets only its own response, the pools stay usable`, async () => {
    const stray = watchUnhandled();

    // Settlement events per request path, from the library's own diagnostics channels.
    const settlements = new Map<string, number>();
    const count = (msg: unknown): void => {
      const path = (msg as { request: { path: string } }).request.path;
      settlements.set(path, (settlements.get(path) ?? 0) + 1);
    };
    subscribe('request-end', count);
    subscribe('request-error', count);

    const cases = new Map<string, Case>();
    const all: Case[] = [];
    for (let i = 0; i < CASES; i++) {
      // Ids that differ from one another in one character too, so a shifted or crossed
      // response is caught by its signed id, not by length.
      const id = `${i.toString(36)}-${(i * 2654435761 >>> 0).toString(36)}`;
      const c = { index: i, id, plan: plan(SEED, i, id) };
      cases.set(id, c);
      all.push(c);
    }
    const url = await fuzzServer(cases);
    const pools = [
      { name: 'pipelining 4', pool: destroyAfterTest(new Pool({ baseURL: url, size: 4, pipelining: 4, requestTimeout: GUARD_MS })), window: 24 },
      { name: 'pipelining 1', pool: destroyAfterTest(new Pool({ baseURL: url, size: 4, requestTimeout: GUARD_MS })), window: 8 },
    ];

    const violations: string[] = [];
    const tally = { ok: 0, failed: 0, byCode: new Map<string, number>() };
    const report = (c: Case, pool: string, what: string): void => {
      violations.push(`HCP_FUZZ_SEED=${SEED} case ${c.index} (${pool}): ${what}\n    plan: ${c.plan.desc}\n    bytes: ${JSON.stringify(c.plan.bytes.toString('latin1'))}\n    splits: ${JSON.stringify(c.plan.splits)}`);
    };

    // Cases alternate between the pools; each pool keeps `window` requests in flight.
    const queues = pools.map(() => [] as Case[]);
    all.forEach((c, i) => queues[i % pools.length]!.push(c));
    const runPool = async (k: number): Promise<void> => {
      const { name, pool, window } = pools[k]!;
      const queue = queues[k]!;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < queue.length) {
          const c = queue[next++]!;
          let settledTimes = 0;
          try {
            const res = await pool.get(`/r/${c.id}`);
            settledTimes++;
            tally.ok++;
            const ids = claimedIds(res);
            for (const got of ids) if (got !== c.id) report(c, name, `resolved with the response of request ${got}`);
            if (!c.plan.mutated && ids.length === 0) report(c, name, 'a valid response resolved without its id');
          } catch (err) {
            settledTimes++;
            tally.failed++;
            const code = (err as { code?: string }).code ?? String(err);
            tally.byCode.set(code, (tally.byCode.get(code) ?? 0) + 1);
            if (!(err instanceof HttpClientPoolError)) report(c, name, `rejected with a foreign error: ${String(err)}`);
            else if (err instanceof RequestTimeoutError) report(c, name, 'hung until the guard timer (RequestTimeoutError)');
            else if (!KNOWN_CODES.has(err.code)) report(c, name, `unexpected code ${err.code}`);
          }
          if (settledTimes !== 1) report(c, name, `settled ${settledTimes} times`);
        }
      };
      await Promise.all(Array.from({ length: window }, worker));
      // Usable afterwards: a well-behaved request succeeds.
      const res = await pool.get('/ok');
      if (res.text() !== 'ok /ok') violations.push(`HCP_FUZZ_SEED=${SEED} (${name}): the final request got ${JSON.stringify(res.text())}`);
    };
    await Promise.all(pools.map((_, k) => runPool(k)));

    for (const c of all) {
      const n = settlements.get(`/r/${c.id}`) ?? 0;
      if (n !== 1) report(c, '?', `${n} settlement events (request-end + request-error)`);
    }
    await turns(3);
    if (stray.length !== 0) violations.push(`HCP_FUZZ_SEED=${SEED}: uncaught: ${stray.map(String).join('; ')}`);
    console.log(`      fuzz seed ${SEED}: ${tally.ok} resolved, ${tally.failed} rejected (${[...tally.byCode].map(([k, v]) => `${k} ${v}`).join(', ')})`);
    if (violations.length !== 0) {
      console.log(`\nfuzz: ${violations.length} violation(s); first ones:\n${violations.slice(0, 5).join('\n')}`);
    }
    expect(violations.slice(0, 5)).to.deep.equal([]);
    // The run exercised both outcomes (a generator that only produced valid responses would prove little).
    expect(tally.ok).to.be.greaterThan(CASES / 10);
    expect(tally.failed).to.be.greaterThan(CASES / 10);
  });
});
