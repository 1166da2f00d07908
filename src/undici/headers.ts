// Header forms undici's contract uses, to and from this library's: the response's flat
// raw list as undici's headers object (lower-case names, repeated names as arrays), and
// a request's headers given as undici allows (an object, a flat list, pairs, an
// iterable) as the record the encoder takes.
import { InvalidArgumentError } from '../errors.js';
import type { Headers, HeaderValue } from '../options.js';

export type UndiciHeaderValue = string | number | readonly string[] | undefined | null;

/** undici's headers object of a flat raw list (`[name, value, name, value, ...]`). */
export function headersObject(raw: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = lower(raw[i]!);
    const value = raw[i + 1]!;
    const had = out[name];
    if (had === undefined) {
      if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
      else out[name] = value;
    } else if (typeof had === 'string') out[name] = [had, value];
    else had.push(value);
  }
  return out;
}

/** Most names a server sends are lower-case already: no new string for them. */
function lower(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) return name.toLowerCase();
  }
  return name;
}

/**
 * A request's headers in any of undici's forms as a record. An object is used as it
 * is (fetch's are plain objects); `null` values are dropped as undici drops them.
 */
export function requestHeaders(headers: unknown): Headers | undefined {
  if (headers === undefined || headers === null) return undefined;
  if (typeof headers !== 'object') throw new InvalidArgumentError('headers must be an object, an array or an iterable of [name, value] pairs');
  if (Array.isArray(headers)) return fromArray(headers);
  const iterator = (headers as { [Symbol.iterator]?: unknown })[Symbol.iterator];
  if (typeof iterator === 'function') return fromPairs(headers as Iterable<unknown>);
  const rec = headers as Record<string, UndiciHeaderValue>;
  for (const name in rec) if (rec[name] === null) return withoutNulls(rec);
  return rec as Headers;
}

function withoutNulls(rec: Record<string, UndiciHeaderValue>): Headers {
  const out: Record<string, HeaderValue> = {};
  for (const name of Object.keys(rec)) {
    const v = rec[name];
    if (v !== null) out[name] = v;
  }
  return out;
}

/** A flat `[name, value, ...]` list, or a list of `[name, value]` pairs. */
function fromArray(list: readonly unknown[]): Headers {
  if (list.length !== 0 && Array.isArray(list[0])) return fromPairs(list);
  if (list.length % 2 !== 0) throw new InvalidArgumentError('headers array must have an even number of entries (name, value, ...)');
  const out: Record<string, HeaderValue> = {};
  for (let i = 0; i < list.length; i += 2) add(out, list[i], list[i + 1]);
  return out;
}

function fromPairs(pairs: Iterable<unknown>): Headers {
  const out: Record<string, HeaderValue> = {};
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new InvalidArgumentError('headers must be [name, value] pairs');
    add(out, pair[0], pair[1]);
  }
  return out;
}

/** Adds one field; a name given twice (in any case) keeps every value, in order. */
function add(out: Record<string, HeaderValue>, name: unknown, value: unknown): void {
  if (typeof name !== 'string') throw new InvalidArgumentError(`header name must be a string, got ${typeof name}`);
  if (value === undefined || value === null) return;
  const v = Array.isArray(value) ? value.map(String) : typeof value === 'number' ? value : String(value);
  const key = name.toLowerCase();
  const had = out[key];
  if (had === undefined) out[key] = v;
  else out[key] = ([] as string[]).concat(had as string | string[], v as string | string[]).map(String);
}
