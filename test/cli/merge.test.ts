// The command-line tool's arithmetic, apart from any I/O: the open model's timetable,
// shares of -c/-n among workers, histograms added up, percentile rows, and the
// per-second statistics.
import { expect } from 'chai';
import { Histogram, percentileSteps } from '../../dist/cli/histogram.js';
import { merge } from '../../dist/cli/merge.js';
import { stats } from '../../dist/cli/report.js';
import type { ThreadResult } from '../../dist/cli/run.js';
import { shares, timetableShare, timetableTotal } from '../../dist/cli/timetable.js';

describe('cli: timetable and shares', () => {
  it('spreads a total over parts, the remainder to the first ones', () => {
    expect(shares(10, 3)).to.deep.equal([4, 3, 3]);
    expect(shares(16, 2)).to.deep.equal([8, 8]);
    expect(shares(5, 5)).to.deep.equal([1, 1, 1, 1, 1]);
  });

  it('puts on the timetable the requests due strictly before the end', () => {
    expect(timetableTotal(200, null, 2000)).to.equal(400);
    expect(timetableTotal(3, null, 1000)).to.equal(3);
    expect(timetableTotal(0.5, null, 3000)).to.equal(2); // at 0 s and 2 s
    expect(timetableTotal(200, 37, null)).to.equal(37);
  });

  it('gives each worker every W-th request of the one timetable: together exactly it', () => {
    for (const [rate, total, workers] of [
      [200, 400, 3],
      [1000, 7, 4],
      [33.3, 100, 2],
    ] as const) {
      const due: number[] = [];
      for (let w = 0; w < workers; w++) {
        const s = timetableShare(rate, total, workers, w);
        for (let k = 0; k < s.total; k++) due.push(s.offsetMs + k * s.intervalMs);
      }
      due.sort((a, b) => a - b);
      expect(due).to.have.length(total);
      due.forEach((t, i) => expect(t).to.be.closeTo((i * 1000) / rate, 1e-6));
    }
  });
});

describe('cli: histograms added up and their percentile rows', () => {
  it('adds histograms bucket by bucket: the same as recording everything in one', () => {
    const all = new Histogram();
    const parts = [new Histogram(), new Histogram(), new Histogram()];
    for (let i = 0; i < 30_000; i++) {
      const v = (i * 7919) % 250_000;
      all.record(v);
      parts[i % 3]!.record(v);
    }
    const sum = Histogram.from(parts.map((p) => p.snapshot()));
    expect([sum.count, sum.min, sum.max, sum.mean]).to.deep.equal([all.count, all.min, all.max, all.mean]);
    for (const q of [0, 0.5, 0.9, 0.99, 0.999, 1]) expect(sum.quantile(q)).to.equal(all.quantile(q));
    expect(sum.percentiles(3)).to.deep.equal(all.percentiles(3));
  });

  it('takes a snapshot that later recording does not change', () => {
    const h = new Histogram();
    h.record(5);
    const s = h.snapshot();
    h.record(7);
    expect(Histogram.from([s]).count).to.equal(1);
  });

  it('has HdrHistogram percentile steps, halving the distance to 100 up to 99.999 and 100', () => {
    const steps = percentileSteps();
    expect(steps.slice(0, 6)).to.deep.equal([0, 50, 75, 87.5, 93.75, 96.875]);
    expect(steps.slice(-2)).to.deep.equal([99.999, 100]);
    for (let i = 1; i < steps.length - 2; i++) expect(100 - steps[i]!).to.be.closeTo((100 - steps[i - 1]!) / 2, 1e-9);
    expect(percentileSteps(2).slice(0, 5)).to.deep.equal([0, 25, 50, 62.5, 75]);
  });

  it('gives rows from the minimum to the maximum, with counts up to the total', () => {
    const h = new Histogram();
    for (let v = 1; v <= 1000; v++) h.record(v);
    const rows = h.percentiles();
    expect(rows.map((r) => r.percentile)).to.deep.equal(percentileSteps());
    expect(rows[0]).to.deep.equal({ percentile: 0, us: 1, count: 1 });
    // A row's value is its bucket's upper bound (within 1.6%), its count every value up to it.
    const median = rows.find((r) => r.percentile === 50)!;
    expect(median.us).to.be.within(500, 508);
    for (const r of rows) expect(r.count).to.equal(r.us);
    expect(rows.at(-1)).to.deep.equal({ percentile: 100, us: 1000, count: 1000 });
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i]!.us).to.be.at.least(rows[i - 1]!.us);
      expect(rows[i]!.count).to.be.at.least(rows[i - 1]!.count);
    }
    expect(new Histogram().percentiles()).to.deep.equal([]);
  });
});

describe('cli: merging threads', () => {
  function result(values: number[], over: Partial<ThreadResult>): ThreadResult {
    const h = new Histogram();
    for (const v of values) h.record(v);
    return {
      latency: h.snapshot(),
      serviceTime: null,
      statuses: [],
      errors: [],
      causes: [],
      gaveUp: null,
      completed: values.length,
      failed: 0,
      late: 0,
      maxLateMs: 0,
      unsent: 0,
      perSecond: [],
      elapsedMs: 1000,
      stoppedEarly: false,
      sockets: [],
      bytesIn: 0,
      bytesOut: 0,
      pipelined: 0,
      maxDepth: 1,
      ...over,
    };
  }

  it('sums counts, statuses, errors and seconds, and keeps every socket', () => {
    const m = merge([
      result([100, 200], { statuses: [[200, 2], [404, 1]], errors: [['HCP_SOCKET', 1]], causes: [['HCP_SOCKET ECONNRESET', 1]], failed: 1, perSecond: [2, 0, 1], late: 3, maxLateMs: 5, unsent: 1, elapsedMs: 3100, sockets: [{ worker: 0, origin: 'o', id: 0, remote: null, requests: 3, reconnects: 1, failedDials: 0 }], bytesIn: 10 }),
      result([300], { statuses: [[200, 1]], errors: [['HCP_SOCKET', 2], ['HCP_CONNECT', 1]], causes: [['HCP_SOCKET ECONNRESET', 2], ['HCP_CONNECT ECONNREFUSED', 1]], gaveUp: 'early: nothing connected', failed: 3, perSecond: [1], late: 1, maxLateMs: 9, elapsedMs: 2900, sockets: [{ worker: 1, origin: 'o', id: 0, remote: null, requests: 1, reconnects: 0, failedDials: 2 }], bytesIn: 5, stoppedEarly: true }),
    ]);
    expect(m).to.deep.include({ completed: 3, failed: 4, late: 4, maxLateMs: 9, unsent: 1, elapsedMs: 3100, stoppedEarly: true, bytesIn: 15 });
    expect([...m.statuses]).to.deep.equal([[200, 3], [404, 1]]);
    expect([...m.errors]).to.deep.equal([['HCP_SOCKET', 3], ['HCP_CONNECT', 1]]);
    expect([...m.causes]).to.deep.equal([['HCP_SOCKET ECONNRESET', 3], ['HCP_CONNECT ECONNREFUSED', 1]]);
    expect(m.gaveUp).to.equal('early: nothing connected');
    expect(m.sockets.map((s) => s.failedDials)).to.deep.equal([0, 2]);
    expect(m.perSecond).to.deep.equal([3, 0, 1]);
    expect(m.sockets.map((s) => s.worker)).to.deep.equal([0, 1]);
    expect([m.latency.count, m.latency.min, m.latency.max]).to.deep.equal([3, 100, 300]);
    expect(m.serviceTime).to.equal(null);
  });

  it('computes min, mean and population stdev of whole seconds', () => {
    expect(stats([])).to.equal(null);
    expect(stats([200, 200])).to.deep.equal({ min: 200, mean: 200, stdev: 0 });
    expect(stats([1, 3])).to.deep.equal({ min: 1, mean: 2, stdev: 1 });
  });
});
