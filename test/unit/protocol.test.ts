// The raw slot's protocol machine on its own: no socket, no clock. A scripted driver
// records what the machine asks (dial, write, arm, close, ...) and feeds it events
// (connected, bytes, EOF, a timer firing). Responses are fed split at every offset;
// then a seeded fuzz runs many short random sessions and checks the rules that must
// hold whatever the server sends: every request settles exactly once, never with
// another request's response, is written twice only when the retry rules allow it,
// and the machine never throws.
import { expect } from 'chai';
import { Request, type RequestOwner } from '../../dist/pool/request.js';
import type { SlotReports } from '../../dist/pool/slot.js';
import { resolveOptions, type PoolOptions } from '../../dist/options.js';
import { BodyTimeoutError, WriteTimeoutError, HeadersTimeoutError, HttpClientPoolError, ParseError, PoolDestroyedError, SocketError, type Response } from '../../dist/index.js';
import { SlotMachine, type SlotIo } from '../../dist/conn/machine.js';
import { Streamed } from '../../dist/parser/request.js';
import { mutate, rng, sig, validResponse } from '../fuzz/generator.js';

// ---- the scripted driver and origin

class ScriptedIo implements SlotIo {
  dials = 0;
  closes = 0;
  /** What was written, one entry per request. */
  writes: string[] = [];
  /** The phase timer: ms it was armed for, 0 when off. */
  timer = 0;
  /** A write is taken by the kernel at once (else the test calls written()). */
  instant = true;
  pollWanted = false;
  sound = true;
  clock = 1_000_000;
  dial(): void {
    this.dials++;
  }
  startTLS(): void {}
  write(head: Buffer, body: Buffer | null): boolean {
    this.writes.push(head.toString('latin1') + (body === null ? '' : body.toString('latin1')));
    return this.instant;
  }
  /** Heads of streamed uploads asked for (the body is the driver's to pump). */
  uploads: string[] = [];
  upload(req: Request): void {
    this.uploads.push(req.head.toString('latin1'));
  }
  /** The held-back body was let go (100 Continue or its timeout). */
  goes = 0;
  uploadGo(): void {
    this.goes++;
  }
  arm(ms: number): void {
    this.timer = ms;
  }
  disarm(): void {
    this.timer = 0;
  }
  detach(): never {
    throw new Error('the scripted driver hands no socket over');
  }
  close(): void {
    this.closes++;
    this.timer = 0;
  }
  now(): number {
    return this.clock;
  }
  usable(): void {}
  ref(): void {}
  sentBytes = 0;
  bytesSent(): number {
    return this.sentBytes;
  }
  /** Whether the machine stopped reading (a dispatched request paused). */
  reading = true;
  readStop(): void {
    this.reading = false;
  }
  readStart(): void {
    this.reading = true;
  }
  afterPoll(): void {
    this.pollWanted = true;
  }
  cancelPoll(): void {
    this.pollWanted = false;
  }
  writable(): boolean {
    return this.sound;
  }
  readOn(): boolean {
    return true;
  }
}

class ScriptedOrigin implements SlotReports, RequestOwner {
  readonly origin = 'http://origin.test';
  readonly absoluteProxy = null;
  awaited = false;
  requeued: Request[] = [];
  dialFailures: [Request | null, HttpClientPoolError][] = [];
  wakes = 0;
  connected(): void {}
  retryWait(): void {}
  retryNow(): void {}
  dialFailed(_id: number, req: Request | null, err: HttpClientPoolError): void {
    this.dialFailures.push([req, err]);
  }
  requeue(reqs: Request[]): void {
    for (const req of reqs) if ((req as Probe).answered) throw new Error(`${req.path} was sent again after bytes of its answer arrived`);
    this.requeued.push(...reqs);
  }
  wake(): void {
    this.wakes++;
  }
  emptied(): void {}
  unqueue(): void {}
  settled(): void {}
}

/** A request whose outcome the test reads synchronously; settling twice fails the test. */
class Probe extends Request {
  outcome: Response | HttpClientPoolError | null = null;
  settles = 0;
  /** Bytes of its answer reached the slot while it was the slot's oldest request (the fuzz's scripted server knows). */
  answered = false;
  constructor(method: string, path: string, owner: RequestOwner, body = '') {
    super(method, path, null, 0, null);
    this.head = Buffer.from(`${method} ${path} HTTP/1.1\r\nhost: origin.test\r\n${body === '' ? '' : `content-length: ${body.length}\r\n`}\r\n${body}`, 'latin1');
    this.start(owner);
    this.promise!.catch(() => {});
  }
  override succeed(res: Response): void {
    this.settles++;
    this.outcome = res;
    super.succeed(res);
  }
  override fail(err: HttpClientPoolError): void {
    this.settles++;
    this.outcome = err;
    super.fail(err);
  }
}

interface Rig {
  m: SlotMachine;
  io: ScriptedIo;
  origin: ScriptedOrigin;
  get(path: string, method?: string, body?: string): Probe;
  feed(s: string | Buffer): void;
}

function rig(options: PoolOptions = {}): Rig {
  const io = new ScriptedIo();
  const origin = new ScriptedOrigin();
  const m = new SlotMachine(0, origin.origin, resolveOptions(options, 'Pool'), false, io, origin);
  return {
    m,
    io,
    origin,
    get(path, method = 'GET', body = '') {
      const req = new Probe(method, path, origin, body);
      m.take(req);
      return req;
    },
    feed(s) {
      const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
      m.read(b, b.length);
    },
  };
}

/** A rig with a connected socket. */
function connected(options: PoolOptions = {}): Rig {
  const r = rig(options);
  r.m.connect();
  r.m.connected();
  return r;
}

function body(out: Probe['outcome']): string {
  if (out === null || out instanceof Error) throw new Error(`expected a response, got ${String(out)}`);
  return out.body.toString('latin1');
}

const ok = (b: string, extra = ''): string => `HTTP/1.1 200 OK\r\ncontent-length: ${b.length}\r\n${extra}\r\n${b}`;

/** Every way to cut `s` into two pieces (and the whole). */
function splits(s: string): string[][] {
  const out: string[][] = [[s]];
  for (let i = 1; i < s.length; i++) out.push([s.slice(0, i), s.slice(i)]);
  return out;
}

describe('raw slot protocol machine (no socket)', () => {
  describe('dial and send', () => {
    it('a request on a dead slot dials, waits for the connect, then writes once', () => {
      const r = rig({ dialTimeout: 500 });
      const req = r.get('/a');
      expect([r.io.dials, r.io.writes.length, r.io.timer, r.m.stateName]).to.deep.equal([1, 0, 500, 'connecting']);
      r.m.connected();
      expect(r.io.writes).to.deep.equal([req.head.toString('latin1')]);
      expect(r.m.stateName).to.equal('busy');
      expect(r.m.phaseOf(req)).to.equal('headers');
    });

    it('the dial timer fails the waiting request through the origin, which may move it', () => {
      const r = rig({ dialTimeout: 500 });
      const req = r.get('/a');
      r.m.expire();
      expect(r.origin.dialFailures).to.have.length(1);
      expect(r.origin.dialFailures[0]![0]).to.equal(req);
      expect(r.origin.dialFailures[0]![1].code).to.equal('HCP_CONNECT_TIMEOUT');
      expect([r.m.stateName, r.io.closes, req.settles]).to.deep.equal(['dead', 1, 0]);
    });

    it('the response-head timer starts when the write completes, not before', () => {
      // No write timer here: the only one that could run is the head's.
      const r = connected({ responseHeaderTimeout: 700, writeTimeout: 0 });
      r.io.instant = false;
      const req = r.get('/a');
      expect(r.io.timer).to.equal(0);
      expect(r.m.phaseOf(req)).to.equal('write');
      r.m.written(null);
      expect(r.io.timer).to.equal(700);
      r.m.expire();
      expect(req.outcome).to.be.instanceOf(HeadersTimeoutError);
      expect(r.io.closes).to.equal(1);
    });
  });

  describe('the write timer', () => {
    it('runs while a write is pending, goes on while bytes leave, fails the request when none do, and stops once written', () => {
      const r = connected({ writeTimeout: 400, responseHeaderTimeout: 700 });
      r.io.instant = false;
      const req = r.get('/a');
      expect(r.io.timer).to.equal(400);
      r.io.sentBytes = 1000; // the kernel took some
      r.io.timer = 1;
      r.m.expire();
      expect([r.io.timer, req.settles]).to.deep.equal([400, 0]);
      r.m.written(null); // all of it left: the head timer takes over
      expect(r.io.timer).to.equal(700);
      const stuck = connected({ writeTimeout: 400 });
      stuck.io.instant = false;
      const req2 = stuck.get('/b');
      stuck.m.expire(); // nothing left since it was armed
      expect(req2.outcome).to.be.instanceOf(WriteTimeoutError);
      expect((req2.outcome as WriteTimeoutError).phase).to.equal('write');
      expect(stuck.io.closes).to.equal(1);
    });
  });

  describe('responses split at every offset', () => {
    const cases: [string, string, string, string][] = [
      ['Content-Length', ok('hello'), 'hello', ''],
      ['chunked with a trailer', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\nx-t: 1\r\n\r\n', 'hello', 'x-t'],
      ['100 Continue first', 'HTTP/1.1 100 Continue\r\n\r\n' + ok('hello'), 'hello', ''],
      ['an empty body', ok(''), '', ''],
    ];
    for (const [name, wire, expected, trailer] of cases) {
      it(`${name}: every split gives the same response, and the socket idles after it`, () => {
        for (const parts of splits(wire)) {
          const r = connected({ idleConnTimeout: 900 });
          const req = r.get('/a');
          for (const p of parts) r.feed(p);
          expect(body(req.outcome), JSON.stringify(parts)).to.equal(expected);
          if (trailer !== '') expect((req.outcome as Response).rawTrailers[0]).to.equal(trailer);
          expect([r.m.stateName, r.io.timer, r.io.closes, req.settles]).to.deep.equal(['idle', 900, 0, 1]);
          r.m.destroy(null);
        }
      });
    }

    it('a close-delimited body completes at EOF, for every split', () => {
      const wire = 'HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nhello';
      for (const parts of splits(wire)) {
        const r = connected();
        const req = r.get('/a');
        for (const p of parts) r.feed(p);
        expect(req.settles).to.equal(0);
        r.m.ended();
        expect(body(req.outcome)).to.equal('hello');
        expect([r.m.stateName, r.io.closes]).to.deep.equal(['dead', 1]);
        r.m.destroy(null);
      }
    });

    it('two pipelined answers split at every pair of offsets: each request gets its own', () => {
      const wire = ok('first') + 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n';
      let cases = 0;
      for (let i = 0; i <= wire.length; i++) {
        for (let j = i; j <= wire.length; j++) {
          const r = connected({ pipelining: 2 });
          const a = r.get('/a');
          const b = r.get('/b');
          expect(r.io.writes).to.have.length(2);
          for (const p of [wire.slice(0, i), wire.slice(i, j), wire.slice(j)]) if (p !== '') r.feed(p);
          expect([body(a.outcome), body(b.outcome)]).to.deep.equal(['first', 'second']);
          expect(r.m.stateName).to.equal('idle');
          r.m.destroy(null);
          cases++;
        }
      }
      expect(cases).to.be.greaterThan(5_000);
    });

    it('Expect: 100-continue, a final answer instead of the 100, at every split (in three for the first), with and without EOF: delivered, the body never let go, the socket dropped', () => {
      const wires = [
        'HTTP/1.1 417 Expectation Failed\r\ncontent-length: 2\r\n\r\nno',
        'HTTP/1.1 417 Expectation Failed\r\nconnection: close\r\ncontent-length: 2\r\n\r\nno',
        'HTTP/1.1 417 Expectation Failed\r\ntransfer-encoding: chunked\r\n\r\n2\r\nno\r\n0\r\n\r\n',
      ];
      for (const [w, wire] of wires.entries()) {
        for (const eof of [false, true]) {
          for (let i = 0; i <= wire.length; i++) {
            for (let j = w === 0 && !eof ? i : wire.length; j <= wire.length; j++) {
              const r = connected({ expectContinueTimeout: 5_000 });
              const req = new Probe('POST', '/up', r.origin);
              req.streamed = new Streamed((async function* () {})(), 6, true);
              req.retryable = req.pipelinable = false;
              r.m.take(req);
              expect([r.io.uploads.length, r.io.timer]).to.deep.equal([1, 5_000]); // the head alone; the Continue timer
              const where = JSON.stringify([wire.slice(0, i), wire.slice(i, j), eof]);
              let fed = 0;
              for (const end of [i, j, wire.length]) {
                if (end > fed) r.feed(wire.slice(fed, end));
                fed = end;
                // Once the final head is in, the Continue timer is done with: it would let the body go.
                if (wire.slice(0, end).includes('\r\n\r\n')) expect(r.io.timer, where).to.not.equal(5_000);
              }
              if (eof) r.m.ended();
              expect((req.outcome as Response | null)?.statusCode, where).to.equal(417);
              expect([req.settles, r.io.goes, r.io.closes, r.m.stateName, r.io.timer], where).to.deep.equal([1, 0, 1, 'dead', 0]);
              r.m.destroy(null);
            }
          }
        }
      }
    });
  });

  describe('failures and retries', () => {
    it('EOF before any byte on a reused socket: an idempotent request is requeued once, a POST fails', () => {
      for (const [method, requeued] of [['GET', true], ['POST', false]] as const) {
        const r = connected();
        r.get('/warm');
        r.feed(ok('w'));
        const req = r.get('/a', method, method === 'POST' ? 'x' : '');
        if (r.io.pollWanted) r.m.polled(); // a POST waits for a poll first; the socket looks sound
        expect(r.io.writes).to.have.length(2);
        r.m.ended();
        expect(r.origin.requeued.includes(req), method).to.equal(requeued);
        if (requeued) expect([req.retried, req.settles]).to.deep.equal([true, 0]);
        else expect(req.outcome).to.be.instanceOf(SocketError);
        expect(r.m.stateName).to.equal('dead');
      }
    });

    it('EOF after a status line: never resent, whatever the method', () => {
      const r = connected();
      r.get('/warm');
      r.feed(ok('w'));
      const req = r.get('/a');
      r.feed('HTTP/1.1 2');
      r.m.ended();
      expect(r.origin.requeued).to.deep.equal([]);
      expect(req.outcome).to.be.instanceOf(HttpClientPoolError);
    });

    it('pipelined: the next head begun in the read that completed a chunked answer counts as begun: EOF fails it, never resent', () => {
      for (const next of ['HTTP/1.1 2', 'HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\npart']) {
        const r = connected({ pipelining: 2 });
        r.get('/warm');
        r.feed(ok('w'));
        const a = r.get('/a');
        const b = r.get('/b');
        r.feed('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n' + next);
        expect(body(a.outcome)).to.equal('a');
        r.m.ended();
        expect(r.origin.requeued, JSON.stringify(next)).to.deep.equal([]);
        expect(b.outcome).to.be.instanceOf(HttpClientPoolError);
      }
    });

    it('a 1xx that closes the connection, then a 200: the request fails with HPE_CLOSED_CONNECTION and is not requeued', () => {
      const r = connected();
      const req = r.get('/a');
      r.feed('HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n' + ok('x'));
      expect((req.outcome as ParseError).parserCode).to.equal('HPE_CLOSED_CONNECTION');
      expect(r.origin.requeued).to.deep.equal([]);
    });

    it('the body timer: armed by a partial body, refreshed by more, firing fails the request in phase body', () => {
      const r = connected({ bodyTimeout: 300, idleConnTimeout: 900 });
      const req = r.get('/a');
      r.feed('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nab');
      expect(r.io.timer).to.equal(300);
      r.io.timer = 1; // a stale value: the next read must arm it again
      r.feed('cd');
      expect(r.io.timer).to.equal(300);
      r.m.expire();
      expect(req.outcome).to.be.instanceOf(BodyTimeoutError);
      expect((req.outcome as BodyTimeoutError).phase).to.equal('body');
      expect(r.io.closes).to.equal(1);
    });

    it('bytes on an idle socket drop it; nothing settles', () => {
      const r = connected();
      const req = r.get('/a');
      r.feed(ok('a'));
      r.feed('HTTP/1.1 200 OK\r\n');
      expect([r.m.stateName, r.io.closes, req.settles]).to.deep.equal(['dead', 1, 1]);
    });

    it('a POST on a reused idle socket waits for a poll; a close read meanwhile sends it on a fresh socket, not as a retry', () => {
      const r = connected();
      r.get('/warm');
      r.feed(ok('w'));
      const post = r.get('/p', 'POST', 'x');
      expect([r.io.pollWanted, r.io.writes.length, r.m.phaseOf(post)]).to.deep.equal([true, 1, 'write']);
      r.m.ended(); // the FIN that was waiting
      r.m.polled();
      expect([r.io.dials, r.io.writes.length]).to.deep.equal([2, 1]);
      r.m.connected();
      expect(r.io.writes).to.have.length(2);
      r.feed(ok('posted'));
      expect([body(post.outcome), post.retried]).to.deep.equal(['posted', false]);
    });

    it('a failed write with the answer already in: the answer is delivered and the socket dropped', () => {
      const r = connected();
      r.io.instant = false;
      const req = r.get('/up', 'POST', 'x'.repeat(100));
      const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' });
      r.m.written(epipe);
      r.m.errored(epipe);
      r.feed('HTTP/1.1 413 Payload Too Large\r\nconnection: close\r\ncontent-length: 3\r\n\r\nbig');
      expect([(req.outcome as Response).statusCode, body(req.outcome), r.m.stateName]).to.deep.equal([413, 'big', 'dead']);
    });

    it('a pipelined socket whose write failed takes no more requests; those on it settle with the EOF', () => {
      const r = connected({ pipelining: 4 });
      r.io.instant = false;
      const a = r.get('/a');
      const b = r.get('/b');
      const next = new Probe('GET', '/next', r.origin);
      expect(r.m.canTake(next)).to.equal(true);
      const reset = Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET', syscall: 'write' });
      r.m.written(reset);
      // The server is gone: nothing more is written to it, only what it sent is read on.
      expect(r.m.canTake(next)).to.equal(false);
      r.feed('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf');
      r.m.ended();
      expect(a.outcome).to.be.instanceOf(SocketError);
      expect(b.outcome !== null || r.origin.requeued.includes(b), 'b failed or goes again').to.equal(true);
      expect(r.m.stateName).to.equal('dead');
      expect(r.m.canTake(next)).to.equal(true); // a fresh socket next
    });

    it('destroy fails what is on the slot, each request with its own copy of the error', () => {
      const r = connected({ pipelining: 2 });
      const a = r.get('/a');
      const b = r.get('/b');
      r.m.destroy(() => new PoolDestroyedError());
      expect(a.outcome).to.be.instanceOf(PoolDestroyedError);
      expect(b.outcome).to.be.instanceOf(PoolDestroyedError);
      expect(a.outcome).to.not.equal(b.outcome);
      expect(r.m.stateName).to.equal('closed');
    });
  });

  describe('seeded fuzz', function () {
    this.timeout(60_000);
    const CASES = Number(process.env['HCP_PROTOCOL_CASES'] ?? 20_000);
    const SEED = Number(process.env['HCP_PROTOCOL_SEED'] ?? 0x5eed_0013);

    it(`${CASES} random sessions: every request settles once, with its own answer, sent twice only if the rules allow`, () => {
      const t0 = performance.now();
      // Errors are made by the thousand here and their stacks are never read: skip them.
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        for (let c = 0; c < CASES; c++) fuzzCase(SEED, c);
      } finally {
        Error.stackTraceLimit = limit;
      }
      const ms = performance.now() - t0;
      expect(ms).to.be.greaterThan(0); // the figure is printed for whoever tunes CASES
      process.stdout.write(`      (${CASES} sessions in ${Math.round(ms)} ms)\n`);
    });
  });
});

/**
 * One random session against a scripted server: each request written on a socket gets
 * a generated (often mutated) answer on that socket, sent in random pieces, among
 * random EOFs, timer expiries, aborts and polls. A socket's unsent answers die with it.
 * As a real server would, it closes the socket after an answer that ends the
 * connection (close-delimited, `Connection: close`, HTTP/1.0, or cut short) and
 * answers nothing after it: bytes that follow a truncated answer on the same stream
 * could not be told apart from its rest by any client.
 */
function fuzzCase(seed: number, index: number): void {
  const r = rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const t = rig({ pipelining: 1 + Math.floor(r() * 3) });
  const all: Probe[] = [];
  const byPath = new Map<string, Probe>();
  const writes = new Map<Probe, number>();
  /** What the server still has to send on the current socket, and whether it closes the socket after. */
  let out = Buffer.alloc(0);
  /** Whose answer the bytes of `out` are, in order. */
  let owners: { req: Probe; left: number }[] = [];
  let closing = false;
  let closes = 0;
  let seen = 0;
  const fail = (what: string): never => {
    throw new Error(`case ${index} (seed ${seed}): ${what}`);
  };
  try {
    const n = 1 + Math.floor(r() * 4);
    for (let i = 0; i < n; i++) {
      const method = r() < 0.15 ? 'POST' : r() < 0.1 ? 'PUT' : 'GET';
      const req = new Probe(method, `/r${i}`, t.origin, method === 'GET' ? '' : 'b');
      all.push(req);
      byPath.set(req.path, req);
      t.origin.requeued.push(req); // the origin's queue, oldest first
    }
    for (let step = 0; step < 400; step++) {
      if (t.io.closes !== closes) {
        closes = t.io.closes;
        out = Buffer.alloc(0); // the socket is gone, and what its server had to say
        owners = [];
        closing = false;
      }
      // Hand waiting requests to the slot when it can take them, oldest first, as the origin does.
      while (t.origin.requeued.length !== 0 && t.m.stateName !== 'closed') {
        const next = t.origin.requeued[0]!;
        if (next.settled) {
          t.origin.requeued.shift();
          continue;
        }
        if (!t.m.canTake(next)) break;
        t.origin.requeued.shift();
        t.m.take(next);
      }
      // The server answers every request written on this socket, in order.
      for (; seen < t.io.writes.length; seen++) {
        const req = byPath.get(t.io.writes[seen]!.split(' ')[1]!)!;
        writes.set(req, (writes.get(req) ?? 0) + 1);
        if (closing) continue; // written after the server's last answer on this socket
        const v = validResponse(r, req.path);
        let bytes = v.bytes;
        closing = v.close;
        if (r() < 0.3) {
          const m = mutate(r, bytes);
          bytes = m.bytes;
          closing ||= m.truncated;
        }
        out = Buffer.concat([out, bytes]);
        owners.push({ req, left: bytes.length });
      }
      const pending = all.some((q) => !q.settled);
      if (!pending) break;
      const kind = t.m.stateName;
      const e = r();
      if (kind === 'connecting') {
        if (e < 0.1) t.m.expire();
        else t.m.connected();
      } else if (t.io.pollWanted && e < 0.5) {
        t.io.pollWanted = false;
        t.m.polled();
      } else if (e < 0.04) {
        t.m.ended();
      } else if (e < 0.06 && t.io.timer > 0) {
        t.m.expire();
      } else if (e < 0.07) {
        const victim = all[Math.floor(r() * all.length)]!;
        if (victim.slot === t.m) {
          t.m.withdraw(victim);
          victim.fail(new SocketError('withdrawn by the test', {}));
        }
      } else if (out.length !== 0) {
        // Small pieces half the time (splits inside heads and chunk sizes), else up to all of it.
        const len = 1 + Math.floor(r() * (r() < 0.5 ? Math.min(16, out.length) : out.length));
        const piece = out.subarray(0, len);
        out = out.subarray(len);
        for (let left = len; left > 0 && owners.length !== 0; ) {
          const o = owners[0]!;
          if (t.m.inflight.length !== 0 && t.m.inflight.at(0) === o.req) o.req.answered = true;
          const n = Math.min(left, o.left);
          o.left -= n;
          left -= n;
          if (o.left === 0) owners.shift();
        }
        t.m.read(piece, len);
      } else if (closing && kind !== 'dead') {
        t.m.ended();
        closing = false;
      } else if (kind === 'dead' && t.origin.requeued.length === 0) {
        break; // nothing on the wire and nothing waiting: the rest waits forever in a real pool too
      } else {
        t.m.ended();
      }
    }
    t.m.destroy(() => new PoolDestroyedError());
    for (const req of all) if (!req.settled) req.fail(new PoolDestroyedError());
  } catch (err) {
    fail(`the machine threw: ${(err as Error).stack}`);
  }
  for (const req of all) {
    if (req.settles !== 1) fail(`${req.path} settled ${req.settles} times`);
    const res = req.outcome;
    if (res !== null && !(res instanceof Error)) {
      // A response whose id and signature agree was meant for exactly that request.
      const m = /^id=([^;]*);sig=([0-9a-f]{8});/.exec(res.body.toString('latin1'));
      if (m !== null && sig(m[1]!) === m[2] && m[1] !== req.path) fail(`${req.path} got the answer of ${m[1]}`);
    }
    const w = writes.get(req) ?? 0;
    if (w > 2 || (w === 2 && !req.retried)) fail(`${req.path} was written ${w} times (retried: ${req.retried})`);
    if (w === 2 && req.method === 'POST') fail(`${req.path}, a POST, was written twice`);
  }
}
