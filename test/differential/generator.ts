// Seeded generator of raw HTTP/1.1 responses for the differential test of Pool and
// NodePool. No dependencies: a mulberry32 PRNG seeded per case from (seed, index),
// so any single case can be regenerated from its seed and index alone.
//
// A case is the exact bytes a server writes, the points where the server splits
// them into separate writes, whether it ends the socket afterwards, and — for valid
// cases — the response a correct client must report.

/** The seed of `npm test` runs. `HCP_DIFF_SEED` overrides it. */
export const DEFAULT_SEED = 0x5eed_0003;

// ---------------------------------------------------------------- PRNG

/** mulberry32: 32-bit state, period 2^32, good enough for test input. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of case `index` of a run with `seed` (a murmur3-style mix of both). */
export function caseSeed(seed: number, index: number): number {
  let h = Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(index + 1, 0xcc9e2d51);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** An integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** `n` random bytes, four per draw. */
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) out.writeUInt32LE(Math.floor(this.next() * 4294967296), i);
    for (; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

// ---------------------------------------------------------------- cases

/** What a correct client reports for a valid case. Strings are latin1, as node's parser gives them. */
export interface Expected {
  statusCode: number;
  statusMessage: string;
  httpVersion: string;
  rawHeaders: string[];
  rawTrailers: string[];
  body: Buffer;
}

export interface Case {
  seed: number;
  index: number;
  valid: boolean;
  /** `valid:<framing>...` or `invalid:<mutation>`: the class of the case, for reports. */
  label: string;
  method: 'GET' | 'HEAD';
  /** Everything the server writes for this request. */
  bytes: Buffer;
  /** Offsets (0 < s < bytes.length, ascending) where the server starts a new write. */
  splits: number[];
  /** The server yields to the event loop (setImmediate) between pieces, besides waiting for each write. */
  yieldBetween: boolean;
  /** The server ends the socket after the last piece. Always true for invalid cases. */
  close: boolean;
  /** Invalid cases are sent with `Connection: close` so that no socket they touched is reused. */
  requestClose: boolean;
  /** Null for invalid cases. */
  expected: Expected | null;
}

type Part = 'head' | 'interim' | 'framing' | 'body' | 'trailer';
interface Segment {
  part: Part;
  bytes: Buffer;
}

/** What the valid builder made, before splitting. */
interface Built {
  segments: Segment[];
  expected: Expected;
  close: boolean;
  method: 'GET' | 'HEAD';
  framing: 'length' | 'chunked' | 'eof' | 'none';
  /** Index in `segments` of the final head, and the offsets of its field lines. */
  headIndex: number;
  label: string;
}

const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** Field names the parsers or clients act on; random fields never use them. */
const RESERVED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'proxy-connection', 'trailer', 'te']);
const REASONS = ['OK', 'Not Found', 'Created', 'No Content', 'Not Modified', 'Internal Server Error', 'I\'m a teapot', 'Bad Gateway', 'x'];


const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

function randomCase(rng: Rng, s: string): string {
  let out = '';
  for (const ch of s) out += rng.chance(0.5) ? ch.toUpperCase() : ch.toLowerCase();
  return out;
}

function token(rng: Rng, min: number, max: number): string {
  for (;;) {
    const n = rng.int(min, max);
    let s = '';
    for (let i = 0; i < n; i++) s += rng.pick(TCHAR.split(''));
    if (!RESERVED.has(s.toLowerCase())) return s;
  }
}

/** A field value: visible ASCII with inner SP/HTAB, now and then obs-text; never leading or trailing whitespace. */
function fieldValue(rng: Rng): string {
  const n = rng.chance(0.1) ? 0 : rng.chance(0.9) ? rng.int(1, 40) : rng.int(41, 200);
  const obs = rng.chance(0.1);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rng.float();
    if (r < 0.08 && i > 0 && i < n - 1) s += rng.chance(0.8) ? ' ' : '\t';
    else if (obs && r < 0.15) s += String.fromCharCode(rng.int(0x80, 0xff));
    else s += String.fromCharCode(rng.int(0x21, 0x7e));
  }
  return s;
}

function ows(rng: Rng): string {
  if (rng.chance(0.7)) return rng.chance(0.9) ? ' ' : '';
  return rng.pick([' ', '\t', '  ', ' \t', '']);
}

/** Random fields: [wire lines, expected raw pairs]. Some names repeat, in another case. */
function randomFields(rng: Rng, count: number): { lines: string; raw: string[] } {
  const names: string[] = [];
  let lines = '';
  const raw: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = names.length !== 0 && rng.chance(0.15) ? randomCase(rng, rng.pick(names)) : token(rng, 1, 20);
    names.push(name);
    const value = fieldValue(rng);
    lines += `${name}:${ows(rng)}${value}${value === '' ? '' : rng.chance(0.1) ? rng.pick([' ', '\t', '  ']) : ''}\r\n`;
    raw.push(name, value);
  }
  return { lines, raw };
}

function headerCount(rng: Rng): number {
  const r = rng.float();
  if (r < 0.1) return 0;
  if (r < 0.75) return rng.int(1, 8);
  if (r < 0.92) return rng.int(9, 31);
  return rng.int(32, 60); // past 32, llhttp hands fields over in batches
}

function bodySize(rng: Rng, large: boolean): number {
  if (large) return rng.int(256 * 1024, 1024 * 1024);
  const r = rng.float();
  if (r < 0.15) return 0;
  if (r < 0.6) return rng.int(1, 64);
  if (r < 0.9) return rng.int(65, 4096);
  return rng.int(4097, 65536);
}

/** Insert a field line at a random position among the others (keeps CRLF structure). */
function insertLine(rng: Rng, lines: string, raw: string[], name: string, value: string, wire = `${name}: ${value}\r\n`): { lines: string; raw: string[] } {
  const count = raw.length / 2;
  const at = rng.int(0, count);
  const parts = lines === '' ? [] : lines.slice(0, -2).split('\r\n').map((l) => l + '\r\n');
  // Values never contain CR LF, so splitting on CRLF gives the field lines back.
  parts.splice(at, 0, wire);
  const r = raw.slice();
  r.splice(at * 2, 0, name, value);
  return { lines: parts.join(''), raw: r };
}

function buildValid(rng: Rng, large: boolean): Built {
  const method: 'GET' | 'HEAD' = rng.chance(0.06) ? 'HEAD' : 'GET';
  const http10 = rng.chance(0.05);
  const version = http10 ? '1.0' : '1.1';
  const sr = rng.float();
  const status = sr < 0.3 ? 200 : sr < 0.36 ? 204 : sr < 0.42 ? 304 : rng.int(200, 599);
  const bodiless = status === 204 || status === 304 || method === 'HEAD';

  // HTTP/1.0 responses close unless they say `Connection: keep-alive` (with a length); 1.1 ones close a quarter of the time.
  const keepAlive10 = http10 && rng.chance(0.3);
  const close = (http10 && !keepAlive10) || (!http10 && rng.chance(0.25));
  let framing: Built['framing'];
  if (status === 204) framing = 'none';
  else if (close && !bodiless && rng.chance(0.3)) framing = 'eof';
  else if (keepAlive10) framing = 'length';
  else if (http10) framing = rng.chance(0.8) ? 'length' : 'none';
  else framing = rng.chance(0.55) ? 'length' : 'chunked';
  if (status === 304 && framing === 'chunked') framing = 'length';
  if (bodiless && framing === 'eof') framing = 'none';
  if (framing === 'none' && !bodiless) framing = 'eof';
  if (framing === 'eof' && !close) throw new Error('generator: eof framing needs close');

  // The body the server states (and sends, unless bodiless).
  const declared = rng.bytes(bodySize(rng, large && !bodiless));
  const body = bodiless ? Buffer.alloc(0) : declared;

  let { lines, raw } = randomFields(rng, headerCount(rng));
  const segments: Segment[] = [];

  // Framing field.
  if (framing === 'length') {
    const n = status === 304 && rng.chance(0.5) ? rng.int(0, 5000) : declared.length;
    const value = rng.chance(0.05) ? `00${n}` : String(n);
    ({ lines, raw } = insertLine(rng, lines, raw, rng.pick(['Content-Length', 'content-length', 'CONTENT-LENGTH', randomCase(rng, 'content-length')]), value, undefined));
  } else if (framing === 'chunked') {
    const value = rng.chance(0.8) ? 'chunked' : rng.pick(['Chunked', 'CHUNKED', 'gzip, chunked', 'gzip,chunked']);
    ({ lines, raw } = insertLine(rng, lines, raw, rng.pick(['Transfer-Encoding', 'transfer-encoding', randomCase(rng, 'transfer-encoding')]), value));
  }
  // Connection management.
  if (close && (!http10 || rng.chance(0.5))) {
    ({ lines, raw } = insertLine(rng, lines, raw, rng.pick(['Connection', 'connection', 'CONNECTION']), rng.pick(['close', 'Close', 'close'])));
  } else if (keepAlive10 || (!close && rng.chance(0.2))) {
    ({ lines, raw } = insertLine(rng, lines, raw, rng.pick(['Connection', 'connection']), rng.pick(['keep-alive', 'Keep-Alive'])));
  }
  if (!close && rng.chance(0.1)) {
    const timeout = rng.int(1, 30);
    ({ lines, raw } = insertLine(rng, lines, raw, rng.pick(['Keep-Alive', 'keep-alive']), `timeout=${timeout}${rng.chance(0.5) ? ', max=100' : ''}`));
  }

  // Interim 1xx responses, skipped by both clients.
  if (!http10 && rng.chance(0.05)) {
    const n = rng.int(1, 2);
    for (let i = 0; i < n; i++) {
      const code = rng.pick([100, 102, 103]);
      const f = randomFields(rng, rng.int(0, code === 103 ? 3 : 1));
      segments.push({ part: 'interim', bytes: latin1(`HTTP/1.1 ${code} ${code === 100 ? 'Continue' : 'Info'}\r\n${f.lines}\r\n`) });
    }
  }

  // Status line.
  let reason: string;
  let statusLine: string;
  const rr = rng.float();
  if (rr < 0.05) {
    reason = '';
    statusLine = `HTTP/${version} ${status}${rng.chance(0.5) ? ' ' : ''}\r\n`;
  } else {
    reason = rr < 0.7 ? rng.pick(REASONS) : fieldValue(rng).replace(/\t/g, ' ');
    statusLine = `HTTP/${version} ${status} ${reason}\r\n`;
  }
  const headIndex = segments.length;
  segments.push({ part: 'head', bytes: latin1(statusLine + lines + '\r\n') });

  // Body and chunk framing.
  let rawTrailers: string[] = [];
  if (framing === 'chunked' && !bodiless) {
    let pos = 0;
    const chunks = body.length === 0 ? 0 : rng.chance(0.3) ? 1 : rng.int(1, Math.min(40, body.length));
    for (let i = 0; i < chunks; i++) {
      const left = body.length - pos;
      const size = i === chunks - 1 ? left : rng.int(1, Math.max(1, Math.floor((2 * left) / (chunks - i)) - 1));
      if (size <= 0) continue;
      segments.push({ part: 'framing', bytes: latin1(chunkSizeLine(rng, size)) });
      segments.push({ part: 'body', bytes: body.subarray(pos, pos + size) });
      segments.push({ part: 'framing', bytes: latin1('\r\n') });
      pos += size;
    }
    if (pos !== body.length) throw new Error('generator: chunks do not cover the body');
    segments.push({ part: 'framing', bytes: latin1(rng.chance(0.9) ? '0\r\n' : `${rng.pick(['00', '000', '0;end'])}\r\n`) });
    const t = rng.chance(0.2) ? randomFields(rng, rng.chance(0.9) ? rng.int(1, 5) : rng.int(30, 40)) : { lines: '', raw: [] };
    if (t.raw.length !== 0) segments.push({ part: 'trailer', bytes: latin1(t.lines) });
    rawTrailers = t.raw;
    segments.push({ part: 'framing', bytes: latin1('\r\n') });
  } else if (framing === 'length' || framing === 'eof') {
    if (!bodiless && body.length !== 0) segments.push({ part: 'body', bytes: body });
  }

  const label = `valid:${framing}${bodiless ? '-bodiless' : ''}${close ? '+close' : ''}${method === 'HEAD' ? '+HEAD' : ''}`;
  return {
    segments,
    expected: { statusCode: status, statusMessage: reason, httpVersion: version, rawHeaders: raw, rawTrailers, body },
    close,
    method,
    framing,
    headIndex,
    label,
  };
}

function chunkSizeLine(rng: Rng, size: number): string {
  let hex = size.toString(16);
  hex = rng.chance(0.5) ? hex : rng.chance(0.5) ? hex.toUpperCase() : randomCase(rng, hex);
  if (rng.chance(0.05)) hex = '0'.repeat(rng.int(1, 3)) + hex;
  const ext = rng.chance(0.05) ? rng.pick([';a', ';name=value', ';x=1;y']) : '';
  return `${hex}${ext}\r\n`;
}

// ---------------------------------------------------------------- invalid cases

export const MUTATIONS = [
  'flip-head',
  'insert-head',
  'delete-head',
  'flip-framing',
  'insert-framing',
  'delete-framing',
  'truncate',
  'double-content-length',
  'content-length-and-chunked',
  'bad-status-line',
  'bad-content-length',
  'bad-chunk-size',
  'chunk-overrun',
  'bare-lf',
  'obs-fold',
  'space-before-colon',
  'no-colon',
  'ctl-in-value',
  'oversized-head',
  'trailing-garbage',
  'empty',
  'switching-protocols',
] as const;
export type Mutation = (typeof MUTATIONS)[number];

const INTERESTING = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x3a, 0x3b, 0x7f, 0x80, 0xff, 0x22, 0x2c, 0x30, 0x41];

function interestingByte(rng: Rng): number {
  return rng.chance(0.6) ? rng.pick(INTERESTING) : rng.int(0, 255);
}

function concat(segments: Segment[]): Buffer {
  return Buffer.concat(segments.map((s) => s.bytes));
}

/** Byte ranges [start, end) of the segments of the given parts in the concatenation. */
function ranges(segments: Segment[], parts: readonly Part[]): [number, number][] {
  const out: [number, number][] = [];
  let pos = 0;
  for (const s of segments) {
    if (parts.includes(s.part) && s.bytes.length !== 0) out.push([pos, pos + s.bytes.length]);
    pos += s.bytes.length;
  }
  return out;
}

function pickOffset(rng: Rng, rs: [number, number][]): number {
  const [a, b] = rng.pick(rs);
  return rng.int(a, b - 1);
}

function replaceHead(b: Built, f: (head: string) => string): Buffer {
  const segs = b.segments.slice();
  segs[b.headIndex] = { part: 'head', bytes: latin1(f(b.segments[b.headIndex]!.bytes.toString('latin1'))) };
  return concat(segs);
}

/** The interim responses and the final head, rewritten by `f`, without the body. */
function headOnly(b: Built, f: (head: string) => string): Buffer {
  const segs = b.segments.slice(0, b.headIndex);
  segs.push({ part: 'head', bytes: latin1(f(b.segments[b.headIndex]!.bytes.toString('latin1'))) });
  return concat(segs);
}

/** The head's field lines, as [start, end) offsets within the head string (end past CRLF). */
function fieldLineSpans(head: string): [number, number][] {
  const spans: [number, number][] = [];
  let pos = head.indexOf('\r\n') + 2;
  for (;;) {
    const end = head.indexOf('\r\n', pos);
    if (end < 0 || end === pos) break;
    spans.push([pos, end + 2]);
    pos = end + 2;
  }
  return spans;
}

function addField(head: string, line: string): string {
  const at = head.indexOf('\r\n') + 2;
  return head.slice(0, at) + line + head.slice(at);
}

function mutate(rng: Rng, b: Built, m: Mutation): Buffer {
  const all = concat(b.segments);
  const headLike = ranges(b.segments, ['head', 'interim', 'trailer']);
  const framingLike = ranges(b.segments, ['framing']);
  switch (m) {
    case 'flip-head':
    case 'flip-framing': {
      const rs = m === 'flip-framing' && framingLike.length !== 0 ? framingLike : headLike;
      const out = Buffer.from(all);
      const at = pickOffset(rng, rs);
      let v = interestingByte(rng);
      if (v === out[at]) v ^= 0x01;
      out[at] = v;
      return out;
    }
    case 'insert-head':
    case 'insert-framing': {
      const rs = m === 'insert-framing' && framingLike.length !== 0 ? framingLike : headLike;
      const at = pickOffset(rng, rs);
      return Buffer.concat([all.subarray(0, at), Buffer.from([interestingByte(rng)]), all.subarray(at)]);
    }
    case 'delete-head':
    case 'delete-framing': {
      const rs = m === 'delete-framing' && framingLike.length !== 0 ? framingLike : headLike;
      const at = pickOffset(rng, rs);
      return Buffer.concat([all.subarray(0, at), all.subarray(at + 1)]);
    }
    case 'truncate': {
      // Cut somewhere after the head: inside the body, chunk framing or trailers.
      const headEnd = ranges(b.segments, ['head'])[0]![1];
      if (all.length <= headEnd) return all.subarray(0, rng.int(0, Math.max(0, headEnd - 1)));
      return all.subarray(0, rng.int(headEnd, all.length - 1));
    }
    case 'double-content-length': {
      // A second, different Content-Length (or two of them when the case had none).
      const n = b.expected.body.length;
      return b.framing === 'length'
        ? replaceHead(b, (h) => addField(h, `content-length: ${n + rng.int(1, 9)}\r\n`))
        : replaceHead(b, (h) => addField(h, `Content-Length: ${rng.int(0, 4)}\r\nContent-Length: ${rng.int(5, 9)}\r\n`));
    }
    case 'content-length-and-chunked':
      return b.framing === 'chunked'
        ? replaceHead(b, (h) => addField(h, `Content-Length: ${rng.int(0, 100)}\r\n`))
        : replaceHead(b, (h) => addField(h, `Transfer-Encoding: chunked\r\n`));
    case 'bad-status-line': {
      const line = rng.pick([
        'HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', 'HTTP/1.1 abc OK', 'HTP/1.1 200 OK', 'http/1.1 200 OK',
        'HTTP/1.1  200 OK', 'HTTP/1.1 200 O\x00K', 'HTTP/1.1 200 O\rK', ' HTTP/1.1 200 OK', 'HTTP/1.1\t200 OK',
        'HTTP/2.0 200 OK', 'HTTP/1.2 200 OK', 'HTTP/0.9 200 OK', 'HTTP/1.10 200 OK', 'HTTP/11 200 OK',
        'HTTP/1.1 -200 OK', 'HTTP/1.1 099 OK', 'HTTP/1.1 600 OK', 'HTTP/1.1 999 OK', 'HTTP/1.1 200OK', 'HTTP/1.1',
      ]);
      return replaceHead(b, (h) => line + h.slice(h.indexOf('\r\n')));
    }
    case 'bad-content-length': {
      const v = rng.pick(['abc', '-1', '1 2', '0x10', '+5', '', '99999999999999999999999', '1.5', '5,5', ' 7 x']);
      return replaceHead(b, (h) => addField(h, `Content-Length: ${v}\r\n`));
    }
    case 'bad-chunk-size': {
      const bad = rng.pick(['zz', '-1', 'ffffffffffffffffffff', ' 5', 'g', '', '0x5', '5 ;a', '1\x00']);
      return Buffer.concat([headOnly(b, (h) => addField(withoutFraming(h), 'Transfer-Encoding: chunked\r\n')), latin1(`${bad}\r\nabcde\r\n0\r\n\r\n`)]);
    }
    case 'chunk-overrun': {
      const n = rng.int(1, 10);
      return Buffer.concat([headOnly(b, (h) => addField(withoutFraming(h), 'Transfer-Encoding: chunked\r\n')), latin1(`${n.toString(16)}\r\n${'x'.repeat(n + rng.int(1, 3))}\r\n0\r\n\r\n`)]);
    }
    case 'bare-lf':
      return replaceHead(b, (h) => {
        const spans = fieldLineSpans(h);
        if (spans.length === 0 || rng.chance(0.3)) return h.replace('\r\n', '\n'); // the status line's
        const [, end] = rng.pick(spans);
        return h.slice(0, end - 2) + '\n' + h.slice(end);
      });
    case 'obs-fold':
      return replaceHead(b, (h) => addField(h, `X-Folded: first\r\n${rng.pick([' ', '\t'])}second\r\n`));
    case 'space-before-colon':
      return replaceHead(b, (h) => addField(h, `X-Spaced${rng.pick([' ', '\t'])}: v\r\n`));
    case 'no-colon':
      return replaceHead(b, (h) => addField(h, `X-No-Colon${rng.pick(['', ' value', '\tvalue'])}\r\n`));
    case 'ctl-in-value': {
      const c = String.fromCharCode(rng.pick([0x00, 0x01, 0x0b, 0x0c, 0x0d, 0x1f, 0x7f]));
      return replaceHead(b, (h) => addField(h, `X-Ctl: a${c}b\r\n`));
    }
    case 'oversized-head':
      return replaceHead(b, (h) => addField(h, `X-Big: ${'v'.repeat(rng.int(16_400, 20_000))}\r\n`));
    case 'trailing-garbage':
      return Buffer.concat([all, rng.chance(0.5) ? rng.bytes(rng.int(1, 40)) : latin1(rng.pick(['\r\n', 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n', 'garbage', '\n']))]);
    case 'empty':
      return rng.chance(0.5) ? Buffer.alloc(0) : all.subarray(0, rng.int(1, Math.min(12, all.length - 1)));
    case 'switching-protocols':
      return latin1(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${rng.pick(['websocket', 'h2c'])}\r\n\r\n${rng.chance(0.5) ? 'tail' : ''}`);
  }
}

/** The head without its framing fields (Content-Length, Transfer-Encoding). */
function withoutFraming(head: string): string {
  return head
    .split('\r\n')
    .filter((l) => !/^(content-length|transfer-encoding)\s*:/i.test(l))
    .join('\r\n');
}

// ---------------------------------------------------------------- splitting and the public entry point

function makeSplits(rng: Rng, total: number, headLen: number): number[] {
  if (total <= 1) return [];
  const r = rng.float();
  if (r < 0.25) return [];
  const points = new Set<number>();
  if (r < 0.28 && total <= 400) {
    for (let i = 1; i < total; i++) points.add(i); // one byte per write
  } else {
    const n = rng.int(1, 8);
    for (let i = 0; i < n; i++) {
      if (rng.chance(0.5)) points.add(rng.int(1, Math.max(1, Math.min(headLen + 2, total - 1))));
      else points.add(rng.int(1, total - 1));
    }
  }
  return [...points].filter((p) => p > 0 && p < total).sort((a, b) => a - b);
}

export interface GenerateOptions {
  /** Share of invalid cases, 0..1. Default 0.35. */
  invalidShare?: number;
}

/** Case `index` of the run with `seed`: the same bytes, splits and expectations every time. */
export function generateCase(seed: number, index: number, options: GenerateOptions = {}): Case {
  const rng = new Rng(caseSeed(seed, index));
  const invalid = rng.chance(options.invalidShare ?? 0.35);
  // One case in 400 (five per default run) carries a body of 256 KiB to 1 MiB.
  const large = index % 400 === 137;
  const built = buildValid(rng, large);
  let bytes: Buffer;
  let label = built.label;
  if (invalid) {
    const m = rng.pick(MUTATIONS);
    bytes = mutate(rng, built, m);
    label = `invalid:${m}`;
  } else {
    bytes = concat(built.segments);
  }
  const headLen = ranges(built.segments, ['interim', 'head']).reduce((n, [, e]) => Math.max(n, e), 0);
  return {
    seed,
    index,
    valid: !invalid,
    label,
    method: built.method,
    bytes,
    splits: makeSplits(rng, bytes.length, headLen),
    yieldBetween: rng.chance(0.5),
    close: invalid || built.close,
    requestClose: invalid,
    expected: invalid ? null : built.expected,
  };
}

/** A replayable description of a case: JSON with the bytes in hex (and readable, up to `limit` bytes). */
export function dumpCase(c: Case, limit = 4096): string {
  const shown = c.bytes.subarray(0, limit);
  return JSON.stringify(
    {
      seed: c.seed,
      index: c.index,
      replay: `HCP_DIFF_SEED=${c.seed} HCP_DIFF_ONLY=${c.index}`,
      label: c.label,
      method: c.method,
      close: c.close,
      requestClose: c.requestClose,
      splits: c.splits,
      yieldBetween: c.yieldBetween,
      length: c.bytes.length,
      truncatedDump: c.bytes.length > limit,
      text: shown.toString('latin1'),
      hex: shown.toString('hex'),
    },
    null,
    2,
  );
}
