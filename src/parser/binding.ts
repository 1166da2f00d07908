// The only place that reaches Node's internal HTTP parser (llhttp). The module is
// undocumented, so its shape is checked once, when the first `Pool` needs it (not at
// import: `NodePool` must keep working on a Node whose binding is missing), and a
// missing or changed binding fails here with one clear error instead of a native
// abort later.
import { createRequire } from 'node:module';
import { ParserUnavailableError } from '../errors.js';

/** The subset of `_http_common.HTTPParser` this library uses. */
export interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  finish(): undefined | Error;
  close(): void;
  [slot: number]: unknown;
}

export interface NativeParserClass {
  new (): NativeParser;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kOnExecute: number;
  readonly kLenientNone: number;
  /** llhttp 9 and later only. */
  readonly kLenientOptionalCRBeforeLF?: number;
}

/** llhttp's own error: `code` is `HPE_*`. */
export interface NativeParseError extends Error {
  code?: string;
  reason?: string;
}

function load(): NativeParserClass {
  let P: NativeParserClass | undefined;
  try {
    P = (createRequire(import.meta.url)('_http_common') as { HTTPParser?: NativeParserClass }).HTTPParser;
  } catch (err) {
    throw new ParserUnavailableError(`require('_http_common') failed: ${(err as Error).message}`);
  }
  if (typeof P !== 'function') throw new ParserUnavailableError('HTTPParser is not exported');
  const constants = [
    'RESPONSE', 'kOnMessageBegin', 'kOnHeaders', 'kOnHeadersComplete',
    'kOnBody', 'kOnMessageComplete', 'kOnExecute', 'kLenientNone',
  ] as const;
  for (const name of constants) {
    if (typeof P[name] !== 'number') throw new ParserUnavailableError(`HTTPParser.${name} is missing`);
  }
  for (const method of ['initialize', 'execute', 'finish', 'close'] as const) {
    if (typeof P.prototype[method] !== 'function') {
      throw new ParserUnavailableError(`HTTPParser.prototype.${method} is missing`);
    }
  }
  return P;
}

let loaded: NativeParserClass | null = null;

/** Node's parser class, checked on first use; throws `ParserUnavailableError` when it is missing or changed. */
export function httpParser(): NativeParserClass {
  return (loaded ??= load());
}
