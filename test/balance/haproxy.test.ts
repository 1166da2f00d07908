// Load balancing behind a real L4 balancer (HAProxy, mode tcp, roundrobin) and with
// multi-address dialing: every backend gets its share, backends added later get
// theirs once sockets recycle, and a backend dying loses no request.
//
// Shares are counted from the `x-backend` header of the responses. Every wait is on
// an event: a connect, a response, a line of haproxy's log; none is a fixed sleep.
//
// What the pool decides is asserted exactly; what the machine decides is not. Below
// `size` requests in flight, the round-robin choice alone places each request, so
// every backend's share is asserted. At `size` or more in flight every socket is
// always busy and each socket's share of requests follows how fast its backend
// answers on a shared machine: there the assertion is on the sockets (all carry
// requests, two per backend), and the shares are measured by `npm run bench:balance`.
import { expect } from 'chai';
import type { Pool } from '../../dist/index.js';
import { cleanup, lookupTo, pool } from '../helpers.js';
import {
  type Backend,
  backends,
  backendsOnOnePort,
  describeShares,
  findHaproxy,
  type Haproxy,
  load,
  loadUntil,
  serverStatus,
  shares,
  startHaproxy,
  tally,
  type Tally,
} from './harness.js';

const N = 4000;
const IDS = ['s1', 's2', 's3', 's4'];
/**
 * While sockets recycle (maxConnAge, jittered ±10%), each re-dial takes HAProxy's next
 * backend, so which backend holds which of the 8 sockets shifts as the load runs, by
 * one socket (12.5 points) at a time, as fast as the machine runs the load. A backend
 * that gets its share holds 2 sockets on average: the bound is half a socket either side.
 */
const HALF_A_SOCKET = 100 / 8 / 2;

/** Every backend of `ids` within `expected` ± `tolerance` percentage points. */
function expectShares(t: Tally, ids: string[], expected: number, tolerance = 3, label = ''): void {
  const s = shares(t, ids);
  for (const id of ids) {
    expect(s[id], `${label} share of ${id} (${describeShares(s)}; ${t.ok} responses)`).to.be.within(expected - tolerance, expected + tolerance);
  }
}

/**
 * What the pool decides at any concurrency: it uses every one of its 8 sockets, none
 * re-dialed, and they sit 2 per backend (counted by the backends: connections that
 * carried requests).
 */
function expectTwoSocketsPerBackend(p: Pool, bes: Backend[]): void {
  const sockets = p.stats().origins[0]!.sockets;
  expect(sockets.length).to.equal(8);
  expect(sockets.filter((s) => s.requests === 0).map((s) => s.id), 'sockets that carried no request').to.deep.equal([]);
  expect(sockets.map((s) => s.reconnects), 're-dials per socket').to.deep.equal(sockets.map(() => 0));
  expect(Object.fromEntries(bes.map((b) => [b.id, b.connections])), 'connections that carried requests, per backend').to.deep.equal(Object.fromEntries(bes.map((b) => [b.id, 2])));
}

function expectNoFailures(t: Tally, p?: Pool): void {
  expect(t.failed.map((e) => `${e.name}: ${e.message}`), 'failed requests').to.deep.equal([]);
  if (p !== undefined) expect(p.stats().totals.errors, 'errors in stats()').to.equal(0);
}

/** Reconnect count of each socket of the pool's only origin. */
function reconnects(p: Pool): number[] {
  return p.stats().origins[0]!.sockets.map((s) => s.reconnects);
}

const haproxyBin = findHaproxy();

describe('balance behind HAProxy (mode tcp, balance roundrobin)', function () {
  before(function () {
    if (haproxyBin === null) {
      console.log('    haproxy is not installed (looked at $HAPROXY, /usr/sbin, PATH): skipping the HAProxy balance tests');
      this.skip();
    }
  });
  afterEach(cleanup);

  async function setup(disabled: string[] = []): Promise<{ bes: Backend[]; h: Haproxy }> {
    const bes = await backends(4);
    const h = await startHaproxy(
      haproxyBin!,
      bes.map((b) => ({ name: b.id, port: b.port, disabled: disabled.includes(b.id) })),
    );
    // Servers start UP (checks take them down, not up), disabled ones in maintenance.
    expect(await serverStatus(h)).to.deep.equal(Object.fromEntries(bes.map((b) => [b.id, disabled.includes(b.id) ? 'MAINT' : 'UP'])));
    return { bes, h };
  }

  it(`size 8, concurrency 1: request k on socket k mod 8, so each of 4 backends gets exactly ${N / 4} of ${N}`, async () => {
    const { bes, h } = await setup();
    const p = pool({ baseURL: h.url });
    await p.ready();
    const t = await load(p, N, 1);
    expectNoFailures(t, p);
    expectTwoSocketsPerBackend(p, bes);
    expect(t.counts).to.deep.equal(Object.fromEntries(IDS.map((id) => [id, N / 4])));
  });

  it(`size 8, concurrency 4: each of 4 backends gets 25% ± 3 of ${N} requests`, async () => {
    const { bes, h } = await setup();
    const p = pool({ baseURL: h.url });
    await p.ready();
    const t = await load(p, N, 4);
    expectNoFailures(t, p);
    expectTwoSocketsPerBackend(p, bes);
    expectShares(t, IDS, 25);
  });

  it(`size 8, concurrency 16: every socket carries requests and each of 4 backends holds 2 of the 8`, async () => {
    // Every socket always busy: shares follow backend speed, not the pool (bench:balance measures them).
    const { bes, h } = await setup();
    const p = pool({ baseURL: h.url });
    await p.ready();
    const t = await load(p, N, 16);
    expectNoFailures(t, p);
    expectTwoSocketsPerBackend(p, bes);
  });

  it('scale-up: 2 of 4 backends enabled later get their share once sockets recycle (maxConnAge 1000)', async () => {
    const { h } = await setup(['s3', 's4']);
    const p = pool({ baseURL: h.url, maxConnAge: 1000 });
    await p.ready();
    const all = tally();

    const before = await load(p, 1000, 4);
    expectNoFailures(before);
    expect(before.counts['s3'] ?? 0, 'disabled s3').to.equal(0);
    expect(before.counts['s4'] ?? 0, 'disabled s4').to.equal(0);
    expectShares(before, ['s1', 's2'], 50, HALF_A_SOCKET, 'before scale-up:');

    for (const s of ['s3', 's4']) {
      expect(await h.command(`enable server be/${s}`)).to.match(/^\s*$/);
    }
    // HAProxy reports the state change in its log; then the status must read UP.
    await h.waitLog(/Server be\/s3 is UP/);
    await h.waitLog(/Server be\/s4 is UP/);
    expect(await serverStatus(h)).to.deep.equal({ s1: 'UP', s2: 'UP', s3: 'UP', s4: 'UP' });

    // Every socket re-dials at least once after the servers came up.
    const base = reconnects(p);
    const during = await loadUntil(p, 4, () => reconnects(p).every((r, i) => r > base[i]!));

    const after = await load(p, N, 4);
    for (const t of [before, during, after]) {
      all.ok += t.ok;
      all.failed.push(...t.failed);
    }
    expectNoFailures(all, p);
    expectShares(after, IDS, 25, HALF_A_SOCKET, 'after scale-up:');
  });

  it('backend death: requests keep succeeding; every request id is answered exactly once, with its own id', async () => {
    const { bes, h } = await setup();
    const p = pool({ baseURL: h.url });
    await p.ready();
    const total = N;
    const concurrency = 8;
    const answered = new Map<number, number>();
    const wrong: string[] = [];
    const failed: string[] = [];
    let next = 0;
    let killed: Promise<void> | null = null;
    let servedAtDeath: number[] = [];
    const worker = async (): Promise<void> => {
      while (next < total) {
        const id = next++;
        if (id === total / 4 && killed === null) {
          // A quarter in, s2 dies abruptly: listener closed, all its connections dropped.
          servedAtDeath = bes.map((b) => b.served);
          killed = bes[1]!.stop();
        }
        try {
          const res = await p.get(`/r/${id}`);
          const body = res.text();
          if (res.statusCode !== 200 || body !== String(id) || res.headers['x-request-id'] !== String(id)) {
            wrong.push(`request ${id}: ${res.statusCode} ${body} ${String(res.headers['x-request-id'])}`);
          }
          answered.set(id, (answered.get(id) ?? 0) + 1);
        } catch (err) {
          failed.push(`request ${id}: ${(err as Error).name} ${(err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await killed;

    expect(failed, 'failed requests').to.deep.equal([]);
    expect(wrong, 'responses not matching their request').to.deep.equal([]);
    const notOnce = [...Array(total).keys()].filter((id) => answered.get(id) !== 1);
    expect(notOnce, 'ids not answered exactly once').to.deep.equal([]);
    // The dead backend served nothing after its death; the others carried the rest.
    expect(bes[1]!.served, 's2 served after its death').to.equal(servedAtDeath[1]);
    for (const i of [0, 2, 3]) expect(bes[i]!.served, `${bes[i]!.id} served after s2's death`).to.be.greaterThan(servedAtDeath[i]!);
    // HAProxy's health checks saw it go.
    await h.waitLog(/Server be\/s2 is DOWN/);
    expect((await serverStatus(h))['s2']).to.match(/^DOWN/);
  });
});

describe('balance with multi-address dialing (no balancer)', () => {
  afterEach(cleanup);

  const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];

  for (const concurrency of [1, 4, 16]) {
    const what =
      concurrency === 1
        ? `exactly ${N / 4} each of ${N} requests`
        : concurrency < 8
          ? `25% ± 3 each of ${N} requests`
          : 'every socket carries requests (shares follow backend speed)';
    it(`4 addresses on one port, size 8, concurrency ${concurrency}: ${what}`, async () => {
      const { backends: bes, port } = await backendsOnOnePort(HOSTS);
      const p = pool({ baseURL: `http://backends.test:${port}`, lookup: lookupTo(() => HOSTS) });
      await p.ready();
      // Slot i dials address i mod 4: two sockets per address.
      const remotes = p.stats().origins[0]!.sockets.map((s) => s.remoteAddress);
      expect(remotes).to.deep.equal([...HOSTS, ...HOSTS]);
      const t = await load(p, N, concurrency);
      expectNoFailures(t, p);
      expectTwoSocketsPerBackend(p, bes);
      if (concurrency === 1) expect(t.counts).to.deep.equal(Object.fromEntries(IDS.map((id) => [id, N / 4])));
      else if (concurrency < 8) expectShares(t, IDS, 25);
    });
  }

  it('the lookup answer going from 2 to 4 addresses recycles the sockets and the shares follow (dnsRefreshInterval 200)', async () => {
    const { port } = await backendsOnOnePort(HOSTS);
    let answer = HOSTS.slice(0, 2);
    const p = pool({ baseURL: `http://backends.test:${port}`, lookup: lookupTo(() => answer), dnsRefreshInterval: 200 });
    await p.ready();

    const before = await load(p, 1000, 4);
    expectNoFailures(before);
    expectShares(before, ['s1', 's2'], 50, 3, 'with 2 addresses:');
    expect((before.counts['s3'] ?? 0) + (before.counts['s4'] ?? 0)).to.equal(0);

    answer = HOSTS;
    // The next refresh sees the new set and recycles every socket; wait until each one
    // re-dialed and the sockets sit two per address.
    const base = reconnects(p);
    const spread = (): boolean => {
      const socks = p.stats().origins[0]!.sockets;
      if (!socks.every((s, i) => s.reconnects > base[i]!)) return false;
      const per = new Map<string | null, number>();
      for (const s of socks) per.set(s.remoteAddress, (per.get(s.remoteAddress) ?? 0) + 1);
      return HOSTS.every((a) => per.get(a) === 2);
    };
    const during = await loadUntil(p, 4, spread);
    expectNoFailures(during);

    const after = await load(p, N, 4);
    expectNoFailures(after, p);
    expectShares(after, IDS, 25, 3, 'with 4 addresses:');
  });

  /** Sockets per remote address. */
  function perAddress(p: Pool): Record<string, number> {
    const per: Record<string, number> = {};
    for (const s of p.stats().origins[0]!.sockets) if (s.remoteAddress !== null) per[s.remoteAddress] = (per[s.remoteAddress] ?? 0) + 1;
    return per;
  }

  it('a lookup that rotates its answer (DNS round-robin) still gives two sockets per address across re-dials', async () => {
    const { port } = await backendsOnOnePort(HOSTS);
    let turn = 0;
    const rotating = (): string[] => {
      const k = turn++ % HOSTS.length;
      return [...HOSTS.slice(k), ...HOSTS.slice(0, k)];
    };
    const p = pool({ baseURL: `http://backends.test:${port}`, lookup: lookupTo(rotating), dnsRefreshInterval: 20, maxConnAge: 100 });
    await p.ready();
    // Every socket re-dials twice, each time with whatever order the latest lookup gave.
    const base = reconnects(p);
    const during = await loadUntil(p, 4, () => reconnects(p).every((r, i) => r >= base[i]! + 2));
    expectNoFailures(during);
    const after = await load(p, N, 4);
    expectNoFailures(after, p);
    expectShares(after, IDS, 25, 3, 'rotating lookup:');
  });

  it('an address that refused and came back gets its share again once sockets recycle', async () => {
    const { backends: bes, port } = await backendsOnOnePort(HOSTS);
    const p = pool({ baseURL: `http://backends.test:${port}`, lookup: lookupTo(() => HOSTS), maxConnAge: 200 });
    await p.ready();
    expectNoFailures(await load(p, 400, 4), p);
    // 127.0.0.3 goes away: its two slots re-dial, are refused and move on to the next address.
    await bes[2]!.stop();
    const gone = await loadUntil(p, 4, () => perAddress(p)['127.0.0.3'] === undefined && Object.values(perAddress(p)).reduce((a, b) => a + b, 0) === 8);
    expect(gone.counts['s3'] ?? 0).to.equal(0);
    // It is back: after every socket recycled twice (maxConnAge), the spread is even again.
    await bes[2]!.restart();
    const base = reconnects(p);
    await loadUntil(p, 4, () => reconnects(p).every((r, i) => r >= base[i]! + 2));
    expect(perAddress(p)).to.deep.equal({ '127.0.0.1': 2, '127.0.0.2': 2, '127.0.0.3': 2, '127.0.0.4': 2 });
    const after = await load(p, N, 4);
    expectNoFailures(after);
    expectShares(after, IDS, 25, 3, 'after 127.0.0.3 came back:');
  });
});
