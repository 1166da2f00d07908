// Seeded generator of HTTP/1.1 response byte streams for the fuzz test: a valid
// response carrying its request's id (in `x-id` with a signature `x-sig`, and at the
// start of the body), then, for most cases, mutated: bits flipped, bytes inserted or
// deleted, the stream truncated. Every case is a pure function of (seed, case index),
// so one failing case can be replayed alone.

/** mulberry32: small, fast, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string, as 8 hex digits. */
export function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The signature of an id: a mutated id keeps a valid signature only by a 2^-32 accident. */
export function sig(id: string): string {
  return fnv(`hcp-fuzz:${id}`);
}

export interface Plan {
  /** The bytes the server writes for this request. */
  bytes: Buffer;
  /** Offsets at which the bytes are split into separate writes (ascending, inside the buffer). */
  splits: number[];
  /** The server closes the connection after writing them (close-delimited, Connection: close, HTTP/1.0, truncated). */
  close: boolean;
  /** The bytes are not the valid response: after them the server closes the connection once idle. */
  mutated: boolean;
  /** Human-readable summary, printed with a failure. */
  desc: string;
}

type Rand = () => number;

function int(r: Rand, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

function pick<T>(r: Rand, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

const STATUSES = ['200 OK', '201 Created', '202 Accepted', '404 Not Found', '500 Internal Server Error', '299 Whatever'];
/** Bytes that matter to an HTTP parser, favoured by insertions. */
const INTERESTING = Buffer.from('\r\n:; \t0123456789abcdefABCDEF-,=HTTP/1.\x00\x7f\xff');

function randomCase(r: Rand, name: string): string {
  let out = '';
  for (const c of name) out += r() < 0.3 ? c.toUpperCase() : c;
  return out;
}

function chunkedBody(r: Rand, body: Buffer, trailers: boolean): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; ) {
    const n = Math.min(body.length - i, int(r, 1, 64));
    const ext = r() < 0.1 ? ';ext=1' : '';
    parts.push(Buffer.from(`${n.toString(16)}${ext}\r\n`), body.subarray(i, i + n), Buffer.from('\r\n'));
    i += n;
  }
  parts.push(Buffer.from(trailers ? `0\r\nX-Trailer: t\r\n\r\n` : '0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** A valid response for request `id`. */
export function validResponse(r: Rand, id: string): { bytes: Buffer; close: boolean; desc: string } {
  const s = sig(id);
  let pad = '';
  const padLen = r() < 0.7 ? int(r, 0, 40) : int(r, 41, 2000);
  for (let i = 0; i < padLen; i++) pad += String.fromCharCode(97 + ((i * 7 + padLen) % 26));
  const body = Buffer.from(`id=${id};sig=${s};${pad}`);
  const framing = pick(r, ['cl', 'cl', 'cl', 'cl', 'chunked', 'chunked', 'close-delimited', 'http1.0'] as const);
  const status = pick(r, STATUSES);
  let head = `HTTP/${framing === 'http1.0' ? '1.0' : '1.1'} ${status}\r\n`;
  const headers: string[] = [`${randomCase(r, 'x-id')}: ${id}`, `${randomCase(r, 'x-sig')}: ${s}`];
  for (let i = int(r, 0, 3); i > 0; i--) headers.push(`X-Extra-${int(r, 0, 99)}: ${'v'.repeat(int(r, 0, 20))}`);
  let connClose = false;
  if (framing !== 'close-delimited' && framing !== 'http1.0' && r() < 0.08) {
    headers.push(`${randomCase(r, 'connection')}: close`);
    connClose = true;
  }
  if (r() < 0.05) headers.push('Keep-Alive: timeout=30');
  let tail: Buffer;
  if (framing === 'chunked') {
    headers.push(`${randomCase(r, 'transfer-encoding')}: chunked`);
    tail = chunkedBody(r, body, r() < 0.2);
  } else if (framing === 'close-delimited') {
    tail = body;
  } else {
    headers.push(`${randomCase(r, 'content-length')}: ${body.length}`);
    tail = body;
  }
  // Shuffle the header lines.
  for (let i = headers.length - 1; i > 0; i--) {
    const j = int(r, 0, i);
    [headers[i], headers[j]] = [headers[j]!, headers[i]!];
  }
  head += headers.map((h) => `${h}\r\n`).join('') + '\r\n';
  let interim = '';
  if (framing !== 'http1.0' && r() < 0.1) interim = pick(r, ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n']);
  const close = framing === 'close-delimited' || framing === 'http1.0' || connClose;
  return {
    bytes: Buffer.concat([Buffer.from(interim + head, 'latin1'), tail]),
    close,
    desc: `${framing}${connClose ? '+close' : ''}${interim === '' ? '' : '+1xx'} ${status} body=${body.length}`,
  };
}

/** Applies 1-3 random mutations; returns the new bytes, whether the stream was truncated, and what was done. */
export function mutate(r: Rand, input: Buffer): { bytes: Buffer; truncated: boolean; what: string[] } {
  let b = Buffer.from(input);
  let truncated = false;
  const what: string[] = [];
  for (let n = int(r, 1, 3); n > 0 && b.length > 0; n--) {
    const kind = pick(r, ['flip', 'flip', 'insert', 'insert', 'delete', 'delete', 'truncate'] as const);
    // Mutations favour the head, where a parser has the most decisions to make.
    const headEnd = Math.max(1, b.indexOf('\r\n\r\n') + 4);
    const at = r() < 0.7 ? int(r, 0, Math.min(headEnd, b.length - 1)) : int(r, 0, b.length - 1);
    if (kind === 'flip') {
      b[at] = b[at]! ^ (1 << int(r, 0, 7));
      what.push(`flip@${at}`);
    } else if (kind === 'insert') {
      const len = int(r, 1, 4);
      const ins = Buffer.alloc(len);
      for (let i = 0; i < len; i++) ins[i] = r() < 0.7 ? INTERESTING[int(r, 0, INTERESTING.length - 1)]! : int(r, 0, 255);
      b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
      what.push(`insert@${at}:${ins.toString('hex')}`);
    } else if (kind === 'delete') {
      const len = int(r, 1, 4);
      b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
      what.push(`delete@${at}+${len}`);
    } else {
      b = b.subarray(0, at);
      truncated = true;
      what.push(`truncate@${at}`);
      break;
    }
  }
  return { bytes: b, truncated, what };
}

/** The plan of case `index` of run `seed` for request `id`. */
export function plan(seed: number, index: number, id: string): Plan {
  const r = rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const valid = validResponse(r, id);
  let bytes = valid.bytes;
  let close = valid.close;
  let mutated = false;
  let desc = valid.desc;
  if (r() < 0.7) {
    const m = mutate(r, bytes);
    mutated = !m.bytes.equals(bytes);
    bytes = m.bytes;
    close ||= m.truncated;
    desc += ` mutated[${m.what.join(',')}]`;
  }
  const splits: number[] = [];
  for (let n = int(r, 0, 4); n > 0 && bytes.length > 1; n--) splits.push(int(r, 1, bytes.length - 1));
  splits.sort((a, b) => a - b);
  return { bytes, splits: [...new Set(splits)], close, mutated, desc };
}
