// The run picture (--svg): well-formed XML whatever the input, its text escaped,
// the percentile axis log-scaled, one curve point per input point, and the
// optional parts drawn only when asked for.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { Histogram } from '../../dist/cli/histogram.js';
import { merge } from '../../dist/cli/merge.js';
import { makePicture } from '../../dist/cli/picture.js';
import { makeReport } from '../../dist/cli/report.js';
import type { ThreadResult } from '../../dist/cli/run.js';
import { renderSvg, type RunPicture } from '../../dist/cli/svg.js';

/** HdrHistogram's points: 0, 50, 75, 87.5, ... (halving what is left), then the nines and 100. */
function percentiles(): number[] {
  const ps = [0];
  for (let k = 1; k <= 16; k++) ps.push(100 * (1 - 2 ** -k));
  ps.push(99.9, 99.99, 99.999, 100);
  return ps.sort((a, b) => a - b);
}

function picture(over: Partial<RunPicture> = {}): RunPicture {
  return {
    title: 'GET http://127.0.0.1:8080/ · raw · 8 sockets · -c 64',
    subtitle: '12,345 req/s · 10 s',
    latency: percentiles().map((p, i) => ({ percentile: p, ms: 1 + i * 0.25 })),
    perSecond: [12000, 12500, 12400, 12345],
    sockets: Array.from({ length: 8 }, (_, i) => ({ label: `#${i} 127.0.0.1:${40000 + i}`, requests: 100 + i, share: (100 + i) / 828 })),
    ...over,
  };
}

function sockets(n: number): RunPicture['sockets'] {
  return Array.from({ length: n }, (_, i) => ({ label: `socket ${i}`, requests: 1000 + i, share: 1 / n }));
}

/**
 * Parses `svg` with Python's XML parser (expat); returns the text of the <title> and of every
 * <text>, as the parser decoded them. Skips the test when there is no python3.
 */
function parseXml(ctx: Mocha.Context, svg: string): { title: string; texts: string[] } {
  const script = [
    'import json, sys, xml.dom.minidom as m',
    'd = m.parseString(sys.stdin.buffer.read())',
    'text = lambda e: "".join(c.data for c in e.childNodes if c.nodeType == c.TEXT_NODE)',
    'print(json.dumps({"title": text(d.getElementsByTagName("title")[0]), "texts": [text(e) for e in d.getElementsByTagName("text")]}))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script], { input: svg, encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') ctx.skip();
  expect(r.status, `not well-formed XML:\n${r.stderr}`).to.equal(0);
  return JSON.parse(r.stdout) as { title: string; texts: string[] };
}

/** The numeric value of attribute `name` in each element matching `selector` (a regex source for the tag's start). */
function attrs(svg: string, tagStart: string, name: string): string[] {
  const tags = svg.match(new RegExp(`<${tagStart}[^>]*>`, 'g')) ?? [];
  return tags.map((t) => {
    const m = new RegExp(`\\s${name}="([^"]*)"`).exec(t);
    expect(m, `${name} in ${t}`).to.not.equal(null);
    return m![1]!;
  });
}

describe('cli: svg picture', () => {
  const cases: [string, Partial<RunPicture>][] = [
    ['a whole run', {}],
    ['a constant-rate run with service time and target', { serviceTime: percentiles().map((p) => ({ percentile: p, ms: 0.5 })), targetRate: 20000 }],
    ['no completed requests', { latency: [], perSecond: [], sockets: [] }],
    ['one point', { latency: [{ percentile: 50, ms: 3 }] }],
    ['all zeros', { latency: percentiles().map((p) => ({ percentile: p, ms: 0 })), perSecond: [0, 0], sockets: sockets(3).map((s) => ({ ...s, requests: 0, share: 0 })) }],
    ['a single second', { perSecond: [42] }],
    ['an hour of seconds', { perSecond: Array.from({ length: 3600 }, (_, i) => i % 100) }],
    ['200 sockets', { sockets: sockets(200) }],
    ['junk numbers', { latency: [{ percentile: NaN, ms: 1 }, { percentile: 150, ms: -1 }], perSecond: [Infinity, -3], targetRate: NaN, sockets: [{ label: '', requests: NaN, share: 7 }] }],
  ];
  for (const [name, over] of cases) {
    it(`is well-formed XML with finite numbers: ${name}`, function () {
      const svg = renderSvg(picture(over));
      parseXml(this, svg);
      expect(svg).to.match(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" /);
      expect(svg).to.not.match(/NaN|Infinity|undefined/);
      // Self-contained: nothing fetched from anywhere.
      expect(svg).to.not.match(/<script|<style|@import|href=|url\(/i);
    });
  }

  it('escapes every text: markup, quotes and characters XML cannot hold', function () {
    const title = `GET http://127.0.0.1/?a=1&b=<2> "x" 'y'`;
    const svg = renderSvg(picture({ title, subtitle: 'sub <b>&amp;</b>', sockets: [{ label: `<&>"'\u0001`, requests: 1, share: 1 }] }));
    const parsed = parseXml(this, svg);
    expect(parsed.title).to.equal(title);
    expect(parsed.texts).to.include(title);
    expect(parsed.texts).to.include('sub <b>&amp;</b>');
    expect(parsed.texts).to.include(`<&>"'\uFFFD`);
    expect(svg).to.not.include('<b>');
    // A lone surrogate would be written out as invalid UTF-8 by some encoders; a pair is kept.
    const pairs = renderSvg(picture({ title: 'a\uD800b \u{1F680}' }));
    expect(pairs).to.include('a\uFFFDb \u{1F680}');
  });

  it('puts the title on one line and cuts a long one', function () {
    const parsed = parseXml(this, renderSvg(picture({ title: `GET\nhttp://127.0.0.1/${'x'.repeat(500)}` })));
    expect(parsed.title).to.not.include('\n');
    expect(parsed.title.length).to.be.below(200);
    expect(parsed.title.endsWith('…')).to.equal(true);
  });

  it('log-scales the percentile axis in 1/(1-p)', () => {
    const svg = renderSvg(picture());
    const labels = attrs(svg, 'line data-tick=', 'data-tick');
    expect(labels).to.deep.equal(['0%', '90%', '99%', '99.9%', '99.99%', '99.999%']);
    const x = attrs(svg, 'line data-tick=', 'x1').map(Number);
    const step = x[1]! - x[0]!;
    expect(step).to.be.above(0);
    // Each nine is as wide as the one before: 99% twice as far from 0% as 90%.
    for (let i = 1; i < x.length; i++) expect(x[i]! - x[0]!).to.be.closeTo(i * step, 0.2);
    // Points sit on the same scale: 50% at log10(2) of the first decade, 100% at the end.
    const pts = attrs(svg, 'polyline data-series="latency"', 'points')[0]!.split(' ').map((p) => Number(p.split(',')[0]));
    const ps = percentiles();
    expect(pts[ps.indexOf(50)]! - x[0]!).to.be.closeTo(Math.log10(2) * step, 0.2);
    expect(pts[ps.indexOf(99.9)]!).to.be.closeTo(x[3]!, 0.2);
    expect(pts[pts.length - 1]!).to.be.closeTo(x[5]!, 0.2);
  });

  it('draws one curve point per input point, service time only when given', () => {
    const latency = percentiles().map((p) => ({ percentile: p, ms: p / 10 }));
    const serviceTime = latency.slice(0, 7).map((p) => ({ ...p, ms: p.ms / 2 }));
    const count = (svg: string, series: string): number[] => attrs(svg, `polyline data-series="${series}"`, 'points').map((p) => p.split(' ').length);
    const both = renderSvg(picture({ latency, serviceTime }));
    expect(count(both, 'latency')).to.deep.equal([latency.length]);
    expect(count(both, 'service')).to.deep.equal([7]);
    expect(both).to.include('corrected latency').and.include('service time');
    const one = renderSvg(picture({ latency, serviceTime: null }));
    expect(count(one, 'latency')).to.deep.equal([latency.length]);
    expect(count(one, 'service')).to.deep.equal([]);
    expect(one).to.not.include('service time');
  });

  it('puts higher latency higher on the chart, the largest at the top tick or below', () => {
    const svg = renderSvg(picture({ latency: [{ percentile: 0, ms: 1 }, { percentile: 99, ms: 7 }] }));
    const ys = attrs(svg, 'polyline data-series="latency"', 'points')[0]!.split(' ').map((p) => Number(p.split(',')[1]));
    expect(ys[1]!).to.be.below(ys[0]!);
    expect(svg).to.include('>8</text>'); // 7 ms rounds the axis up to 8 (steps of 2)
  });

  it('says when there is nothing to draw', () => {
    const svg = renderSvg(picture({ latency: [], perSecond: [], sockets: [] }));
    expect(svg).to.include('no completed requests').and.include('no whole second').and.include('no sockets');
    expect(svg).to.not.include('<polyline');
  });

  it('draws the target rate dashed only when given', () => {
    const target = (svg: string): string[] => svg.match(/<line data-series="target"[^>]*>/g) ?? [];
    const withTarget = renderSvg(picture({ targetRate: 20000 }));
    expect(target(withTarget)).to.have.length(1);
    expect(target(withTarget)[0]).to.include('stroke-dasharray');
    expect(withTarget).to.include('target 20,000/s');
    for (const targetRate of [undefined, null, 0]) expect(target(renderSvg(picture({ targetRate })))).to.have.length(0);
  });

  it('labels min, mean and max per second, one bar per second', () => {
    const svg = renderSvg(picture({ perSecond: [100, 300, 200] }));
    expect(svg).to.include('min 100 · mean 200 · max 300');
    expect((svg.match(/<g data-series="per-second"[^>]*>(.*?)<\/g>/)![1]!.match(/<rect /g) ?? []).length).to.equal(3);
  });

  it('shows every socket up to 24, then the 12 busiest, the 12 least busy and "+N more"', () => {
    const rows = (svg: string): number => (svg.match(/<rect data-socket=/g) ?? []).length;
    const more = (svg: string): string[] => attrs(svg, 'text [^>]*data-more=', 'data-more');
    for (const n of [1, 8, 24]) {
      const svg = renderSvg(picture({ sockets: sockets(n) }));
      expect(rows(svg), `${n} sockets`).to.equal(n);
      expect(more(svg)).to.deep.equal([]);
    }
    const svg = renderSvg(picture({ sockets: sockets(200) }));
    expect(rows(svg)).to.equal(24);
    expect(more(svg)).to.deep.equal(['176']);
    expect(svg).to.include('+176 more');
    // Busiest first (socket 199 has the most requests), least busy last.
    const shown = attrs(svg, 'rect data-socket=', 'data-socket').map(Number);
    expect(shown.slice(0, 3)).to.deep.equal([199, 198, 197]);
    expect(shown.slice(-2)).to.deep.equal([1, 0]);
    expect(renderSvg(picture({ sockets: sockets(25) }))).to.include('+1 more');
  });

  it('marks the even share and cuts long labels in the middle', function () {
    const label = `http://127.0.0.1:8080 ${'x'.repeat(60)} 127.0.0.1:54321`;
    const svg = renderSvg(picture({ sockets: [{ label, requests: 3, share: 0.75 }, { label: 'b', requests: 1, share: 0.25 }] }));
    expect(svg).to.match(/<line data-series="even"/);
    expect(svg).to.include('even 50.0%');
    const texts = parseXml(this, svg).texts;
    const cut = texts.find((t) => t.startsWith('http://127.0'))!;
    expect(cut.length).to.be.below(30);
    expect(cut).to.include('…');
    expect(cut.endsWith(':54321')).to.equal(true);
  });

  it('labels requests and shares clear of the even-share line, whatever the bars', () => {
    for (const shares of [Array(8).fill(1 / 8), [0.13, 0.12, 0.125, 0.125, 0.126, 0.124, 0.125, 0.125], [0.5, 0.3, 0.2]]) {
      const svg = renderSvg(picture({ sockets: shares.map((share, i) => ({ label: `#${i}`, requests: Math.round(share * 8000), share })) }));
      const even = Number(attrs(svg, 'line data-series="even"', 'x1')[0]);
      const barEnds = attrs(svg, 'rect data-socket=', 'x').map(Number).map((x, i) => x + Number(attrs(svg, 'rect data-socket=', 'width')[i]));
      const labels = attrs(svg, 'text [^>]*data-share-label', 'x').map(Number);
      expect(labels).to.have.length(shares.length);
      // A label of 11 px text starts right of the line and of every bar (none crosses it).
      for (const x of labels) {
        expect(x, 'label right of the even line').to.be.above(even + 4);
        expect(x, 'label right of the bars').to.be.above(Math.max(...barEnds) + 4);
      }
    }
  });

  it("gives in the legend the report's figures, and the curve passes through the report's percentiles", () => {
    // 98% at 1 ms, 2% spread from 100 ms to 1 s: the 99th percentile is mid-tail, between
    // two of the curve's HdrHistogram steps (98.4 and 99.06).
    const h = new Histogram();
    for (let i = 0; i < 9800; i++) h.record(1000);
    for (let i = 0; i < 200; i++) h.record(100_000 + i * 4500);
    const thread: ThreadResult = {
      latency: h.snapshot(), serviceTime: null, statuses: [[200, 10000]], errors: [], causes: [], gaveUp: null,
      completed: 10000, failed: 0, late: 0, maxLateMs: 0, unsent: 0, perSecond: [10000], elapsedMs: 1000, stoppedEarly: false,
      sockets: [{ worker: 0, origin: 'o', id: 0, remote: null, requests: 10000, reconnects: 0, failedDials: 0 }], bytesIn: 0, bytesOut: 0, pipelined: 0, maxDepth: 1,
    };
    const run = merge([thread]);
    const report = makeReport(run, {
      method: 'GET', url: 'http://127.0.0.1/', backend: 'raw', size: 1, pipelining: 1, concurrency: 1, workers: 1, rate: null,
      durationMs: null, scheduleMs: null, warmupMs: null, expect: null, latencyTable: false,
    });
    const l = report.latency!;
    const pic = makePicture(report, run.latency, null);
    const svg = renderSvg(pic);
    const legend = svg.match(/<text [^>]*data-legend="latency"[^>]*>([^<]*)<\/text>/)![1];
    expect(legend).to.equal(`latency: p50 ${l.p50} ms · p99 ${l.p99} ms · max ${l.max} ms`);
    for (const [p, ms] of [[50, l.p50], [90, l.p90], [99, l.p99], [99.9, l.p99_9]] as const) {
      expect(pic.latency.find((q) => q.percentile === p), `point at ${p}`).to.deep.equal({ percentile: p, ms });
    }
    // The curve's own step past 99 says otherwise: the figures would differ if read off it.
    const step = pic.latency.find((q) => q.percentile > 99)!;
    expect(step.ms).to.not.equal(l.p99);
  });

  it('gives the same string for the same input', () => {
    const p = picture({ serviceTime: percentiles().map((q) => ({ percentile: q, ms: 0.5 })), targetRate: 5, sockets: sockets(100) });
    expect(renderSvg(p)).to.equal(renderSvg(structuredClone(p)));
  });
});
