// Differential test of the two backends: a raw loopback server replays generated
// responses (test/differential/generator.ts) byte for byte, in the case's splits,
// to Pool and to NodePool, and both must agree — the same response for valid
// input (which must also be the generator's expected one), or both rejecting for
// invalid input. Allowed disagreements live in known-differences.ts only.
//
//   HCP_DIFF_CASES=20000          more cases (default 2000)
//   HCP_DIFF_SEED=12345           another seed (default DEFAULT_SEED)
//   HCP_DIFF_ONLY=17,942          only these case indices of the seed
//   HCP_DIFF_CONCURRENCY=8        cases in flight (default 8)
import * as net from 'node:net';
import { expect } from 'chai';
import type { Client, RequestInit, Response } from '../../dist/index.js';
import { cleanup, rawServer, turns } from '../helpers.js';
import { BACKENDS } from '../contract/backends.js';
import { DEFAULT_SEED, dumpCase, generateCase, type Case } from './generator.js';
import { BUG_EXCLUSIONS, explain, KNOWN_DIFFERENCES, type Outcome } from './known-differences.js';

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

const SEED = envInt('HCP_DIFF_SEED', DEFAULT_SEED);
const CASES = envInt('HCP_DIFF_CASES', 2000);
const CONCURRENCY = Math.max(1, envInt('HCP_DIFF_CONCURRENCY', 8));
const ONLY = (process.env.HCP_DIFF_ONLY ?? '')
  .split(',')
  .filter((s) => s.trim() !== '')
  .map((s) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`HCP_DIFF_ONLY takes case indices separated by commas, got ${JSON.stringify(s)}`);
    return n;
  });
/** Per-request timeout: a hang is reported as a failure instead of stalling the run. */
const REQUEST_TIMEOUT = 10_000;
/** Most failures printed in full. */
const MAX_REPORTED = 10;

interface Stats {
  cases: number;
  valid: number;
  invalid: number;
  bothResolved: number;
  bothRejected: number;
  known: Map<string, number>;
  bugs: Map<string, number>;
  labels: Map<string, number>;
}

/** Replays cases: `GET /c/<index>` is answered with case `index`'s bytes in its splits. */
async function caseServer(cases: Map<number, Case>): Promise<string> {
  const { url } = await rawServer((socket, head) => {
    const m = /^(?:GET|HEAD) \/c\/(\d+) HTTP\/1\.1\r\n/.exec(head);
    const c = m === null ? undefined : cases.get(Number(m[1]));
    if (c === undefined) {
      socket.destroy();
      return;
    }
    void replay(socket, c);
  });
  return url;
}

async function replay(socket: net.Socket, c: Case): Promise<void> {
  let pos = 0;
  for (const end of [...c.splits, c.bytes.length]) {
    const piece = c.bytes.subarray(pos, end);
    pos = end;
    if (piece.length === 0) continue;
    if (socket.destroyed || !socket.writable) return;
    const ok = await new Promise<boolean>((resolve) => socket.write(piece, (err) => resolve(err == null)));
    if (!ok) return;
    if (c.yieldBetween) await turns(1);
  }
  if (c.close && !socket.destroyed) socket.end();
}

function outcome(r: PromiseSettledResult<Response>): Outcome {
  if (r.status === 'fulfilled') {
    const v = r.value;
    return {
      ok: true,
      statusCode: v.statusCode,
      statusMessage: v.statusMessage,
      httpVersion: v.httpVersion,
      rawHeaders: [...v.rawHeaders],
      rawTrailers: [...v.rawTrailers],
      body: v.body,
    };
  }
  const e = r.reason as { name?: string; code?: string; message?: string; phase?: string; parserCode?: string };
  return { ok: false, name: String(e?.name), code: String(e?.code), message: String(e?.message), phase: e?.phase ?? null, parserCode: e?.parserCode ?? null };
}

type Resolved = Extract<Outcome, { ok: true }>;

/** Where two responses differ, or null. */
function diffResponses(a: Resolved, b: Resolved, aName: string, bName: string): string | null {
  const out: string[] = [];
  for (const k of ['statusCode', 'statusMessage', 'httpVersion'] as const) {
    if (a[k] !== b[k]) out.push(`${k}: ${aName} ${JSON.stringify(a[k])} vs ${bName} ${JSON.stringify(b[k])}`);
  }
  for (const k of ['rawHeaders', 'rawTrailers'] as const) {
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) {
      out.push(`${k}: ${aName} ${JSON.stringify(a[k]).slice(0, 600)} vs ${bName} ${JSON.stringify(b[k]).slice(0, 600)}`);
    }
  }
  if (!a.body.equals(b.body)) {
    let i = 0;
    while (i < a.body.length && i < b.body.length && a.body[i] === b.body[i]) i++;
    out.push(`body: ${aName} ${a.body.length} B vs ${bName} ${b.body.length} B, first difference at byte ${i}`);
  }
  return out.length === 0 ? null : out.join('; ');
}

function show(o: Outcome): string {
  return o.ok ? `resolved ${o.statusCode} (${o.rawHeaders.length / 2} fields, ${o.body.length} B body)` : `rejected ${o.name} ${o.code}: ${o.message}`;
}

/** Null when the backends agree (and a valid case matched its expectation); else what went wrong. */
function judge(c: Case, pool: Outcome, node: Outcome, stats: Stats): string | null {
  for (const [name, o] of [['Pool', pool], ['NodePool', node]] as const) {
    if (!o.ok && o.code === 'HCP_REQUEST_TIMEOUT') return `${name} hung: ${o.message}`;
  }
  let problem: string | null = null;
  if (c.valid) {
    const exp = c.expected!;
    if (!pool.ok) problem = `valid case: Pool ${show(pool)}`;
    else {
      const d = diffResponses(pool, { ok: true, ...exp }, 'Pool', 'expected');
      if (d !== null) problem = `valid case: Pool differs from the expected response: ${d}`;
    }
    if (problem === null && !node.ok) problem = `valid case: NodePool ${show(node)}`;
  }
  if (problem === null) {
    if (pool.ok !== node.ok) problem = `disagree: Pool ${show(pool)}; NodePool ${show(node)}`;
    else if (pool.ok && node.ok) {
      const d = diffResponses(pool, node, 'Pool', 'NodePool');
      if (d !== null) problem = `disagree: ${d}`;
    }
  }
  if (problem === null) {
    if (pool.ok) stats.bothResolved++;
    else stats.bothRejected++;
    return null;
  }
  // Only a disagreement of the backends can be excused; Pool missing a valid case's expectation never is.
  const known = problem.startsWith('disagree:') || problem.startsWith('valid case: NodePool') ? explain(c, pool, node) : null;
  if (known !== null) {
    const counts = KNOWN_DIFFERENCES.includes(known) ? stats.known : stats.bugs;
    counts.set(known.name, (counts.get(known.name) ?? 0) + 1);
    return null;
  }
  return problem;
}

describe('differential: Pool vs NodePool on generated responses', function () {
  this.timeout(600_000);
  afterEach(cleanup);

  it(`agree on ${ONLY.length !== 0 ? `cases ${ONLY.join(',')}` : `${CASES} cases`} of seed ${SEED}`, async () => {
    const cases = new Map<number, Case>();
    const url = await caseServer(cases);
    const options = { baseURL: url, size: 4, requestTimeout: REQUEST_TIMEOUT };
    const pools: [string, Client][] = BACKENDS.map((b) => [b.name, b.pool(options)]);

    const indices = ONLY.length !== 0 ? ONLY : Array.from({ length: CASES }, (_, i) => i);
    const stats: Stats = { cases: 0, valid: 0, invalid: 0, bothResolved: 0, bothRejected: 0, known: new Map(), bugs: new Map(), labels: new Map() };
    const failures: { c: Case; problem: string; pool: Outcome; node: Outcome }[] = [];
    let next = 0;
    const started = Date.now();

    async function worker(): Promise<void> {
      while (next < indices.length) {
        const index = indices[next++]!;
        const c = generateCase(SEED, index);
        cases.set(index, c);
        const init: RequestInit = { method: c.method, path: `/c/${index}` };
        if (c.requestClose) init.headers = { connection: 'close' };
        const [a, b] = await Promise.allSettled(pools.map(([, p]) => p.request(init)));
        cases.delete(index);
        const pool = outcome(a!);
        const node = outcome(b!);
        stats.cases++;
        if (c.valid) stats.valid++;
        else stats.invalid++;
        stats.labels.set(c.label, (stats.labels.get(c.label) ?? 0) + 1);
        const problem = judge(c, pool, node, stats);
        if (problem !== null) failures.push({ c, problem, pool, node });
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const ms = Date.now() - started;

    const known = [...stats.known].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none';
    const bugs = [...stats.bugs].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none';
    console.log(
      `    differential: seed ${SEED}, ${stats.cases} cases (${stats.valid} valid, ${stats.invalid} invalid) in ${ms} ms; ` +
        `both resolved ${stats.bothResolved}, both rejected ${stats.bothRejected}, known differences: ${known}; BUG exclusions: ${bugs}; failures ${failures.length}`,
    );
    if (process.env.HCP_DIFF_VERBOSE) {
      for (const [l, n] of [...stats.labels].sort()) console.log(`      ${l}: ${n}`);
    }
    if (failures.length !== 0) {
      failures.sort((x, y) => x.c.index - y.c.index);
      const shown = failures.slice(0, MAX_REPORTED).map(
        ({ c, problem, pool, node }) =>
          `--- seed ${c.seed} case ${c.index} (${c.label}): ${problem}\n` +
          `    Pool: ${show(pool)}\n    NodePool: ${show(node)}\n` +
          `    replay: HCP_DIFF_SEED=${c.seed} HCP_DIFF_ONLY=${c.index}\n${dumpCase(c)}`,
      );
      const rest =
        failures.length > MAX_REPORTED
          ? `\n... and ${failures.length - MAX_REPORTED} more:\n` +
            failures
              .slice(MAX_REPORTED)
              .map(({ c, problem }) => `--- seed ${c.seed} case ${c.index} (${c.label}): ${problem.slice(0, 300)}`)
              .join('\n')
          : '';
      expect.fail(`${failures.length} of ${stats.cases} cases failed (seed ${SEED}):\n${shown.join('\n')}${rest}`);
    }
    expect(KNOWN_DIFFERENCES.length + BUG_EXCLUSIONS.length).to.be.lessThan(10);
  });
});
