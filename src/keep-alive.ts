// The keep-alive rules both backends follow: whether a response lets its connection be
// reused, the server's `Keep-Alive: timeout=` hint, and how long an idle socket may be
// kept. Plain functions over header values: nothing here reaches the parser binding,
// so NodePool keeps working on a Node where the raw parser is unavailable.

/**
 * Connection reuse by the `Connection` header alone (`connection`: its values,
 * comma-joined, any case): HTTP/1.1 unless `close`, HTTP/1.0 only with `keep-alive`.
 */
export function connectionAllowsReuse(major: number, minor: number, connection: string): boolean {
  const has = (token: string): boolean => connection.split(',').some((t) => t.trim().toLowerCase() === token);
  if (major === 1 && minor === 1) return !has('close');
  return major === 1 && minor === 0 && has('keep-alive');
}

/** The `timeout=N` of a `Keep-Alive` header value, in ms; -1 when absent. */
export function keepAliveTimeout(value: string): number {
  // A scan rather than a regular expression: it runs on every response that has the header.
  const lower = value.toLowerCase();
  for (let i = lower.indexOf('timeout'); i >= 0; i = lower.indexOf('timeout', i + 1)) {
    if (i > 0 && !isSeparator(lower.charCodeAt(i - 1))) continue;
    let j = i + 7;
    while (isSpace(lower.charCodeAt(j))) j++;
    if (lower.charCodeAt(j) !== 61 /* = */) continue;
    j++;
    while (isSpace(lower.charCodeAt(j))) j++;
    let n = 0;
    const start = j;
    for (let c = lower.charCodeAt(j); c >= 48 && c <= 57; c = lower.charCodeAt(++j)) n = n * 10 + (c - 48);
    if (j > start) return n * 1000;
  }
  return -1;
}

/**
 * How long a kept-alive socket may idle: `idleConnTimeout`, lowered to the server's
 * `Keep-Alive: timeout` hint minus a second so that we never write to a socket the
 * server is closing. 0: no idle timer; -1: close it now.
 */
export function idleTime(configured: number, hintMs: number): number {
  if (hintMs < 0) return configured;
  const hinted = hintMs - 1000;
  if (hinted <= 0) return -1;
  return configured === 0 ? hinted : Math.min(configured, hinted);
}

/** What `\s` matched in the regular expression this replaced, for latin1 text. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 160;
}

function isSeparator(c: number): boolean {
  return isSpace(c) || c === 44 /* , */ || c === 59 /* ; */;
}

/**
 * A socket the peer closed while idle this soon after its first response marks a peer
 * that closes after each response without saying so (tinyproxy 1.11 does): from then on
 * the slot sends `connection: close` and dials for each request, rather than write one
 * into a close on its way. A server's own idle timeout is far longer.
 */
export const CLOSES_EACH_WINDOW_MS = 1000;
