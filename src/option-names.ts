// Near misses of option names: the name probably meant when a caller gives one that is
// none (a slip of the keys, another case, another client's name for it), so that the
// error says what to write instead. The names come from OPTIONS (options.ts).
import { InvalidArgumentError } from './errors.js';

/** Names people reach for from other clients, and what they mean here. */
const ALIASES: Readonly<Record<string, string>> = {
  connections: 'size',
  maxSockets: 'size',
  connectTimeout: 'dialTimeout',
  headersTimeout: 'responseHeaderTimeout',
  keepAliveTimeout: 'idleConnTimeout',
  maxResponseHeaderSize: 'maxHeaderSize',
  rejectUnauthorized: 'insecureSkipVerify',
};

/**
 * The error for an option name that is none, with the name probably meant: another
 * client's name for it, the same but for case or a slip of the keys; looked for among
 * the options of `scope` first, then among the others (saying where those go).
 */
export function misnamed(
  name: string,
  scope: 'pool' | 'request',
  own: ReadonlyMap<string, unknown>,
  other: ReadonlyMap<string, unknown>,
  extra: readonly string[],
): InvalidArgumentError {
  const elsewhere = scope === 'pool' ? 'an option of a call, not of the pool' : 'a pool option: give it to the constructor';
  const meant = (n: string | undefined): n is string => n !== undefined && own.has(n);
  let hint = '';
  const alias = ALIASES[name] ?? (scope === 'pool' && name === 'timeout' ? 'requestTimeout' : undefined);
  const near = nearest(name, [...own.keys(), ...extra]);
  if (meant(alias)) hint = ` (did you mean "${alias}"?${other.has(name) ? ` "${name}" is ${elsewhere})` : ')'}`;
  else if (near !== null) hint = ` (did you mean "${near}"?)`;
  else if (other.has(name)) hint = ` ("${name}" is ${elsewhere})`;
  else {
    const far = (alias !== undefined && other.has(alias) ? alias : null) ?? nearest(name, [...other.keys()]);
    if (far !== null) hint = ` (did you mean "${far}"? it is ${elsewhere})`;
  }
  return new InvalidArgumentError(`unknown ${scope === 'pool' ? 'pool' : 'request'} option "${name}"${hint}`);
}

/** The known name closest to `name`: the same but for case, or at most 2 edits away (1 for short names). */
function nearest(name: string, names: readonly string[]): string | null {
  const lower = name.toLowerCase();
  let best: string | null = null;
  let bestD = Math.min(2, Math.floor(name.length / 3));
  for (const n of names) {
    if (n.toLowerCase() === lower) return n;
    const d = distance(lower, n.toLowerCase(), bestD);
    if (d <= bestD && (best === null || d < bestD)) {
      best = n;
      bestD = d;
    }
  }
  return best;
}

/** Edit distance (insert, delete, substitute, swap two neighbours), giving up beyond `limit`. */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
