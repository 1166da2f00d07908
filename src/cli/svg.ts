// One run as a picture: a self-contained SVG (no fonts, scripts or stylesheets to
// load) with three panels: latency by percentile the way HdrHistogram plots it,
// completed requests in each second, and each socket's share of the requests.
// Pure string building, so the same run always gives the same bytes.

export interface RunPicture {
  /** One line: method, url, backend, sockets, -c, rate. */
  title: string;
  /** e.g. "12,345 req/s achieved of 20,000 target · 3 workers · 10 s". */
  subtitle?: string;
  /** Percentile in [0, 100], ascending; HdrHistogram-style points (0, 50, 75, 87.5, ..., 99.999, 100). */
  latency: { percentile: number; ms: number }[];
  /** Second curve for constant-rate runs: service time beside the corrected latency. */
  serviceTime?: { percentile: number; ms: number }[] | null;
  /** Completed requests in each whole second of the run. */
  perSecond: number[];
  /** Drawn as a dashed line on the req/s chart. */
  targetRate?: number | null;
  /** share in 0..1. */
  sockets: { label: string; requests: number; share: number }[];
  /**
   * The legend's figures, in ms, as the text report gives them (one set of figures for
   * both); without them the legend reads them off the curve's points.
   */
  legend?: { latency: LegendFigures | null; serviceTime?: LegendFigures | null };
}

export interface LegendFigures {
  p50: number;
  p99: number;
  max: number;
}

type Point = { percentile: number; ms: number };

const WIDTH = 960;
const LEFT = 76; // room for the y tick labels
const RIGHT = 28;
const PLOT_W = WIDTH - LEFT - RIGHT;
/** The percentile axis ends at 99.999% (five nines); 100% and anything past it sit on the edge. */
const DECADES = 5;
const PERCENTILE_TICKS = ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%'];
const LATENCY_H = 240;
const RATE_H = 150;
const ROW_H = 16;
/** More sockets than this: the busiest and the least busy halves are shown, the rest counted. */
const MAX_ROWS = 24;
const LABEL_CHARS = 26;
const TITLE_CHARS = 130;
const BLUE = '#2a7ae2';
const ORANGE = '#e8590c';
const GRID = '#e3e6ea';
const AXIS = '#6b7280';
const INK = '#1f2328';
const MUTED = '#57606a';
const FONT = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';

export function renderSvg(picture: RunPicture): string {
  const out: string[] = [];
  const title = oneLine(picture.title ?? '', TITLE_CHARS);
  out.push(text(16, 26, title, { size: 15, weight: 'bold' }));
  let y = 34;
  if (picture.subtitle) {
    out.push(text(16, 52, oneLine(picture.subtitle, TITLE_CHARS + 20), { size: 12, fill: MUTED }));
    y = 60;
  }

  y = latencyPanel(out, y + 8, points(picture.latency), picture.serviceTime == null ? null : points(picture.serviceTime), picture.legend);
  y = ratePanel(out, y + 8, (picture.perSecond ?? []).map((v) => (Number.isFinite(v) && v > 0 ? v : 0)), positive(picture.targetRate));
  y = socketPanel(out, y + 8, picture.sockets ?? []);

  const height = Math.ceil(y + 12);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}" font-size="12" fill="${INK}">\n` +
    `<title>${esc(title)}</title>\n` +
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>\n` +
    out.join('\n') +
    '\n</svg>\n'
  );
}

// ---- (a) latency by percentile -------------------------------------------------------

function latencyPanel(out: string[], top: number, latency: Point[], service: Point[] | null, legend: RunPicture['legend']): number {
  const plotTop = top + 30;
  const bottom = plotTop + LATENCY_H;
  out.push(text(16, top + 16, 'Latency by percentile', { size: 13, weight: 'bold' }));

  const all = service === null ? latency : latency.concat(service);
  const ticks = niceTicks(maxOf(all.map((p) => p.ms)), 5);
  const top_ = ticks[ticks.length - 1]!;
  const yOf = (ms: number): number => bottom - (ms / top_) * LATENCY_H;
  const xOf = (percentile: number): number => LEFT + (decades(percentile) / DECADES) * PLOT_W;

  for (const t of ticks) {
    const ty = yOf(t);
    out.push(line(LEFT, ty, LEFT + PLOT_W, ty, GRID));
    out.push(text(LEFT - 6, ty + 4, formatMs(t), { anchor: 'end', fill: MUTED, size: 11 }));
  }
  PERCENTILE_TICKS.forEach((label, i) => {
    const tx = LEFT + (i / DECADES) * PLOT_W;
    out.push(`<line data-tick="${label}" x1="${n(tx)}" y1="${n(plotTop)}" x2="${n(tx)}" y2="${n(bottom)}" stroke="${GRID}"/>`);
    out.push(text(tx, bottom + 16, label, { anchor: 'middle', fill: MUTED, size: 11 }));
  });
  out.push(line(LEFT, bottom, LEFT + PLOT_W, bottom, AXIS));
  out.push(line(LEFT, plotTop, LEFT, bottom, AXIS));
  out.push(text(LEFT + PLOT_W / 2, bottom + 34, 'percentile (log scale in 1/(1−p))', { anchor: 'middle', fill: MUTED, size: 11 }));
  out.push(text(16, plotTop + LATENCY_H / 2, 'ms', { anchor: 'middle', fill: MUTED, size: 11, rotate: true }));

  const curves: { series: string; name: string; color: string; pts: Point[]; figures: LegendFigures | null | undefined }[] = [
    { series: 'latency', name: service === null ? 'latency' : 'corrected latency', color: BLUE, pts: latency, figures: legend?.latency },
  ];
  if (service !== null) curves.push({ series: 'service', name: 'service time', color: ORANGE, pts: service, figures: legend?.serviceTime });

  for (const c of curves) {
    if (c.pts.length === 0) continue;
    const coords = c.pts.map((p) => `${n(xOf(p.percentile))},${n(yOf(p.ms))}`).join(' ');
    out.push(`<polyline data-series="${c.series}" points="${coords}" fill="none" stroke="${c.color}" stroke-width="2" stroke-linejoin="round"/>`);
    // A lone point draws no line: mark it.
    if (c.pts.length === 1) out.push(`<circle cx="${n(xOf(c.pts[0]!.percentile))}" cy="${n(yOf(c.pts[0]!.ms))}" r="3" fill="${c.color}"/>`);
  }
  if (latency.length === 0) {
    out.push(text(LEFT + PLOT_W / 2, plotTop + LATENCY_H / 2, 'no completed requests', { anchor: 'middle', fill: MUTED, size: 13 }));
  }

  // Legend, top left inside the plot (latency rises to the right, so that corner stays clear).
  curves.forEach((c, i) => {
    const ly = plotTop + 14 + i * 18;
    out.push(`<line x1="${LEFT + 12}" y1="${ly - 4}" x2="${LEFT + 34}" y2="${ly - 4}" stroke="${c.color}" stroke-width="2"/>`);
    out.push(text(LEFT + 40, ly, `${c.name}: ${c.figures != null ? figures(c.figures) : summary(c.pts)}`, { size: 11, data: `legend="${c.series}"` }));
  });
  return bottom + 42;
}

/** The report's own figures, written as it writes them. */
function figures(f: LegendFigures): string {
  const v = (x: number): string => (Number.isFinite(x) ? String(x) : '?');
  return `p50 ${v(f.p50)} ms · p99 ${v(f.p99)} ms · max ${v(f.max)} ms`;
}

/** "p50 1.2 ms · p99 4.5 ms · max 9 ms", from the points given (the first at or past each percentile). */
function summary(pts: Point[]): string {
  if (pts.length === 0) return 'none';
  const at = (p: number): Point | undefined => pts.find((q) => q.percentile >= p);
  const parts: string[] = [];
  for (const [p, name] of [[50, 'p50'], [99, 'p99']] as const) {
    const q = at(p);
    if (q !== undefined && q.percentile < 100) parts.push(`${name} ${formatMs(q.ms)} ms`);
  }
  parts.push(`max ${formatMs(maxOf(pts.map((q) => q.ms)))} ms`);
  return parts.join(' · ');
}

/** How many nines: 0 at 0%, 1 at 90%, 2 at 99%, ...; capped at the axis end. */
function decades(percentile: number): number {
  const rest = 1 - percentile / 100;
  return rest <= 10 ** -DECADES ? DECADES : Math.min(DECADES, -Math.log10(rest));
}

function points(list: Point[] | null | undefined): Point[] {
  return (list ?? [])
    .filter((p) => p !== null && typeof p === 'object' && Number.isFinite(p.percentile) && Number.isFinite(p.ms))
    .map((p) => ({ percentile: Math.min(100, Math.max(0, p.percentile)), ms: Math.max(0, p.ms) }))
    .sort((a, b) => a.percentile - b.percentile);
}

// ---- (b) requests per second ---------------------------------------------------------

function ratePanel(out: string[], top: number, perSecond: number[], target: number | null): number {
  const plotTop = top + 30;
  const bottom = plotTop + RATE_H;
  const count = perSecond.length;
  let heading = 'Requests per second';
  if (count > 0) {
    const min = perSecond.reduce((a, b) => Math.min(a, b), Infinity);
    const mean = perSecond.reduce((a, b) => a + b, 0) / count;
    heading += `: min ${group(min)} · mean ${group(mean)} · max ${group(maxOf(perSecond))}`;
  }
  out.push(text(16, top + 16, heading, { size: 13, weight: 'bold' }));

  const ticks = niceTicks(Math.max(target ?? 0, maxOf(perSecond)), 4);
  const yMax = ticks[ticks.length - 1]!;
  const yOf = (v: number): number => bottom - (v / yMax) * RATE_H;
  const span = Math.max(1, count);
  const xOf = (s: number): number => LEFT + (s / span) * PLOT_W;

  for (const t of ticks) {
    out.push(line(LEFT, yOf(t), LEFT + PLOT_W, yOf(t), GRID));
    out.push(text(LEFT - 6, yOf(t) + 4, group(t), { anchor: 'end', fill: MUTED, size: 11 }));
  }
  for (const s of secondTicks(count)) {
    out.push(text(xOf(s), bottom + 16, `${s}`, { anchor: 'middle', fill: MUTED, size: 11 }));
  }

  // Bars, with a gap while there is room for one; past a bar per two pixels, one stepped
  // outline (same shape, a fraction of the bytes).
  const slot = PLOT_W / span;
  if (count > 0 && slot >= 2) {
    const gap = slot >= 6 ? 2 : 0;
    const bars = perSecond.map((v, i) => `<rect x="${n(xOf(i) + gap / 2)}" y="${n(yOf(v))}" width="${n(slot - gap)}" height="${n(bottom - yOf(v))}"/>`);
    out.push(`<g data-series="per-second" fill="${BLUE}" fill-opacity="0.8">${bars.join('')}</g>`);
  } else if (count > 0) {
    const steps = perSecond.map((v, i) => `H${n(xOf(i))}V${n(yOf(v))}`).join('');
    out.push(`<path data-series="per-second" d="M${LEFT},${n(bottom)}${steps}H${n(xOf(count))}V${n(bottom)}Z" fill="${BLUE}" fill-opacity="0.8"/>`);
  } else out.push(text(LEFT + PLOT_W / 2, plotTop + RATE_H / 2, 'no whole second to show', { anchor: 'middle', fill: MUTED, size: 13 }));

  if (target !== null) {
    const ty = yOf(target);
    out.push(`<line data-series="target" x1="${LEFT}" y1="${n(ty)}" x2="${LEFT + PLOT_W}" y2="${n(ty)}" stroke="${ORANGE}" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    out.push(text(LEFT + PLOT_W - 4, ty - 5, `target ${group(target)}/s`, { anchor: 'end', fill: ORANGE, size: 11, halo: true }));
  }
  out.push(line(LEFT, bottom, LEFT + PLOT_W, bottom, AXIS));
  out.push(line(LEFT, plotTop, LEFT, bottom, AXIS));
  out.push(text(LEFT + PLOT_W / 2, bottom + 34, 'second of the run', { anchor: 'middle', fill: MUTED, size: 11 }));
  return bottom + 42;
}

/** Whole seconds from 0 to count, about eight of them. */
function secondTicks(count: number): number[] {
  const span = Math.max(1, count);
  const step = Math.max(1, niceStep(span / 8));
  const ticks: number[] = [];
  for (let s = 0; s <= span + 1e-9; s += step) ticks.push(Math.round(s));
  return ticks;
}

// ---- (c) per-socket shares -----------------------------------------------------------

function socketPanel(out: string[], top: number, sockets: RunPicture['sockets']): number {
  const rows = sockets.map((s, i) => ({
    index: i,
    label: String(s?.label ?? ''),
    requests: Number.isFinite(s?.requests) ? Math.max(0, s.requests) : 0,
    share: Number.isFinite(s?.share) ? Math.min(1, Math.max(0, s.share)) : 0,
  }));
  const count = rows.length;
  const even = count === 0 ? 0 : 1 / count;
  out.push(
    text(16, top + 16, count === 0 ? 'Requests per socket' : `Requests per socket: ${count} socket${count === 1 ? '' : 's'}, even share ${percent(even)}`, {
      size: 13,
      weight: 'bold',
    }),
  );
  if (count === 0) {
    out.push(text(LEFT, top + 40, 'no sockets', { fill: MUTED }));
    return top + 48;
  }

  // Too many to read: the busiest and least busy, in that order, with a count of the rest.
  type Row = (typeof rows)[number];
  let shown: (Row | { more: Row[] })[] = rows;
  if (count > MAX_ROWS) {
    const sorted = rows.slice().sort((a, b) => b.requests - a.requests || a.index - b.index);
    const half = MAX_ROWS / 2;
    shown = [...sorted.slice(0, half), { more: sorted.slice(half, count - half) }, ...sorted.slice(count - half)];
  }

  const labelX = 16 + 172;
  const barX = labelX + 8;
  const barW = WIDTH - barX - 150;
  // Requests and share in a column of their own right of the plot: beside each bar they
  // sat on the even-share line, the bars being about that long.
  const shareX = barX + barW + 14;
  const ticks = niceTicks(Math.max(even, maxOf(rows.map((r) => r.share))) * 100, 4);
  const xMax = ticks[ticks.length - 1]! / 100;
  const xOf = (share: number): number => barX + (share / xMax) * barW;
  const plotTop = top + 28;
  const bottom = plotTop + shown.length * ROW_H + 4;

  for (const t of ticks) {
    const tx = xOf(t / 100);
    out.push(line(tx, plotTop, tx, bottom, GRID));
    out.push(text(tx, bottom + 14, `${fixed(t, 2)}%`, { anchor: 'middle', fill: MUTED, size: 11 }));
  }
  // The even share behind the bars, so their labels stay readable across it.
  const ex = xOf(even);
  out.push(`<line data-series="even" x1="${n(ex)}" y1="${n(plotTop - 4)}" x2="${n(ex)}" y2="${n(bottom)}" stroke="${ORANGE}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
  out.push(text(ex, plotTop - 7, `even ${percent(even)}`, { anchor: 'middle', fill: ORANGE, size: 11 }));
  shown.forEach((r, i) => {
    const ry = plotTop + 2 + i * ROW_H;
    if ('more' in r) {
      const lo = r.more[r.more.length - 1]!.share; // sorted busiest first
      const hi = r.more[0]!.share;
      out.push(text(barX, ry + 11, `… +${r.more.length} more (shares ${percent(lo)} to ${percent(hi)})`, { fill: MUTED, size: 11, data: `more="${r.more.length}"` }));
      return;
    }
    out.push(text(labelX, ry + 11, truncate(r.label, LABEL_CHARS), { anchor: 'end', size: 11 }));
    const w = Math.max(r.requests > 0 ? 1 : 0, xOf(r.share) - barX);
    out.push(`<rect data-socket="${r.index}" x="${barX}" y="${n(ry + 2)}" width="${n(w)}" height="${ROW_H - 4}" fill="${BLUE}" fill-opacity="0.8"/>`);
    out.push(text(shareX, ry + 11, `${group(r.requests)} · ${percent(r.share)}`, { fill: MUTED, size: 11, data: 'share-label=""' }));
  });
  out.push(line(barX, plotTop, barX, bottom, AXIS));
  return bottom + 20;
}

// ---- scales and formatting -----------------------------------------------------------

/** 1, 2, 2.5 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5]) if (m * mag >= raw * (1 - 1e-9)) return m * mag;
  return 10 * mag;
}

/** 0, step, 2 step, ... up to the first tick at or above max (max 0 or less: 0 and 1). */
function niceTicks(max: number, about: number): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const step = niceStep(max / about);
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const t = Number((i * step).toPrecision(12)); // 0.1 * 3 is 0.30000000000000004
    ticks.push(t);
    if (t >= max * (1 - 1e-9)) return ticks;
  }
}

/** The largest, 0 for none (no spread: a long run has more seconds than a call takes arguments). */
function maxOf(values: number[]): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}

function formatMs(ms: number): string {
  return ms >= 100 ? group(ms) : ms >= 10 ? fixed(ms, 1) : fixed(ms, 2);
}

function percent(share: number): string {
  const p = share * 100;
  return `${p.toFixed(p >= 10 ? 1 : 2)}%`;
}

/** toFixed without the trailing zeros. */
function fixed(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Rounded, with thousands separators (not toLocaleString: the output must not depend on ICU data). */
function group(v: number): string {
  return String(Math.round(v)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A coordinate: one decimal is finer than a pixel. */
function n(v: number): string {
  const r = Math.round(v * 10) / 10;
  return Object.is(r, -0) ? '0' : String(r);
}

function positive(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

function oneLine(s: string, max: number): string {
  return truncateEnd(String(s).replace(/\s+/g, ' ').trim(), max);
}

function truncateEnd(s: string, max: number): string {
  const chars = Array.from(s); // code points: never split a surrogate pair
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/** Keeps both ends: socket labels differ at the end (ports, ids) and start with the origin. */
function truncate(s: string, max: number): string {
  const chars = Array.from(s.replace(/\s+/g, ' '));
  if (chars.length <= max) return chars.join('');
  const tail = Math.floor((max - 1) / 2);
  return `${chars.slice(0, max - 1 - tail).join('')}…${chars.slice(chars.length - tail).join('')}`;
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text safe in XML content and attributes; characters XML 1.0 cannot hold at all become U+FFFD. */
function esc(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function line(x1: number, y1: number, x2: number, y2: number, stroke: string): string {
  return `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" stroke="${stroke}"/>`;
}

interface TextStyle {
  size?: number;
  weight?: string;
  fill?: string;
  anchor?: 'start' | 'middle' | 'end';
  rotate?: boolean;
  /** A white outline under the glyphs, for text drawn over bars. */
  halo?: boolean;
  /** A raw attribute (name="value"), already safe. */
  data?: string;
}

function text(x: number, y: number, content: string, style: TextStyle = {}): string {
  let attrs = `x="${n(x)}" y="${n(y)}"`;
  if (style.size !== undefined && style.size !== 12) attrs += ` font-size="${style.size}"`;
  if (style.weight) attrs += ` font-weight="${style.weight}"`;
  if (style.fill) attrs += ` fill="${style.fill}"`;
  if (style.anchor && style.anchor !== 'start') attrs += ` text-anchor="${style.anchor}"`;
  if (style.halo) attrs += ' stroke="#ffffff" stroke-width="3" paint-order="stroke"';
  if (style.rotate) attrs += ` transform="rotate(-90 ${n(x)} ${n(y)})"`;
  if (style.data) attrs += ` data-${style.data}`;
  return `<text ${attrs}>${esc(content)}</text>`;
}
