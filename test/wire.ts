// Builders of response bytes shared by the parsing tests.

/** `n` header lines `<prefix><i>: v<i>`. */
export function headerLines(n: number, prefix = 'X-H'): string {
  let s = '';
  for (let i = 0; i < n; i++) s += `${prefix}${i}: v${i}\r\n`;
  return s;
}

/** The flat [name, value, ...] form of headerLines(). */
export function headerPairs(n: number, prefix = 'X-H'): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${prefix}${i}`, `v${i}`);
  return out;
}

/** `size` bytes of a pattern that a shifted or truncated copy would not match. */
export function pattern(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + (i >> 8)) % 251;
  return b;
}

/** A chunked body: `body` in chunks of `chunkSize`, then the last chunk and optional trailer lines. */
export function chunked(body: Buffer, chunkSize: number, trailerLines = ''): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += chunkSize) {
    const c = body.subarray(i, i + chunkSize);
    parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\n${trailerLines}\r\n`));
  return Buffer.concat(parts);
}
