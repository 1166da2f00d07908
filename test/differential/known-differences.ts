// The one place where Pool (raw sockets + llhttp via _http_common, kLenientNone)
// and NodePool (node:http, which on Node 20 drives the same llhttp binding, also
// with kLenientNone unless --insecure-http-parser) may disagree in the
// differential test. Each entry says what each backend does and why; `applies`
// recognises exactly that disagreement and nothing else. Anything not matched here
// fails the test.
//
// Two lists:
//  - KNOWN_DIFFERENCES: legitimate differences of behaviour (README material).
//  - BUG_EXCLUSIONS: disagreements caused by bugs in src/ that are reported and not
//    yet fixed; delete the entry once the bug is fixed.
import type { Case } from './generator.js';

/** What one backend did with a case, as the comparison sees it. */
export type Outcome =
  | { ok: true; statusCode: number; statusMessage: string; httpVersion: string; rawHeaders: string[]; rawTrailers: string[]; body: Buffer }
  | { ok: false; name: string; code: string; message: string; phase: string | null; parserCode: string | null };

export interface KnownDifference {
  /** Short name, used in reports and the README. */
  name: string;
  /** What Pool does. */
  pool: string;
  /** What NodePool does. */
  nodePool: string;
  /** Why they differ. */
  reason: string;
  /** True when this entry explains the disagreement of `pool` and `node` on case `c`. */
  applies(c: Case, pool: Outcome, node: Outcome): boolean;
}

/**
 * Legitimate differences. Empty on purpose: with both backends on the same llhttp
 * binding and the same (strict) flags, every valid case of the generator gives
 * identical status, raw headers, trailers and body bytes, and the invalid cases are
 * accepted or refused alike — apart from the bugs below. node:http's JS-level
 * handling (304 and HEAD skipped by `parserOnIncomingClient`, 1xx via
 * 'information', rawHeaders / rawTrailers passed through untouched) needs no
 * normalisation either. Add an entry here, with a concrete reason, only for a
 * difference that is not a bug of either backend.
 */
export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [];

/**
 * Reported bugs whose disagreements are tolerated until they are fixed; each entry
 * marked `// BUG:`. Empty: the four found by this test (NodePool destroying a socket
 * already handed on after `Keep-Alive: timeout=1`, NodePool reusing a socket after
 * `Connection: close`, NodePool failing a complete response followed by extra bytes
 * in the same read, and status codes below 100) are fixed.
 */
export const BUG_EXCLUSIONS: readonly KnownDifference[] = [];

/** The entry that explains a disagreement, or null. */
export function explain(c: Case, pool: Outcome, node: Outcome): KnownDifference | null {
  for (const d of KNOWN_DIFFERENCES) if (d.applies(c, pool, node)) return d;
  for (const d of BUG_EXCLUSIONS) if (d.applies(c, pool, node)) return d;
  return null;
}
