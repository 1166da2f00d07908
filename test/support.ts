// Helpers that need nothing but Node and the package: the mocha tests get them through
// test/helpers.ts, and the child scripts (which load no chai and no mocha, and some of
// which measure their own heap) import them from here.
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { NodePool, Pool, type Client, type PoolOptions } from '../dist/index.js';

/** Lets `n` turns of the event loop run (one setImmediate each): I/O callbacks, microtasks, rejection reports. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Resolves once `cond()` holds, checked after every turn of the event loop (for state
 * that has no event). Bounded: after `limitMs` it throws, saying `what` never held, so a
 * broken client fails the test here instead of spinning on.
 */
export async function until(cond: () => boolean, what: string | (() => string) = 'the condition', limitMs = 10_000): Promise<void> {
  const giveUp = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > giveUp) throw new Error(`${typeof what === 'string' ? what : what()}: not so within ${limitMs} ms`);
    await turns(1);
  }
}

/**
 * A `lookup` (as net.connect calls it) that answers every host name with `addresses`,
 * read at each call (pass an array the test changes, or a function); `onCall` counts calls.
 */
export function lookupTo(addresses: readonly string[] | (() => readonly string[]), onCall?: () => void): LookupFunction {
  return ((_host: string, options: { all?: boolean }, cb: (err: Error | null, a: LookupAddress[] | string, family?: number) => void): void => {
    onCall?.();
    const all = (typeof addresses === 'function' ? addresses() : addresses).map((address) => ({ address, family: 4 }));
    if (options.all === true) cb(null, all);
    else cb(null, all[0]!.address, 4);
  }) as unknown as LookupFunction;
}

/** A client of the backend named `backend` ('Pool' or 'NodePool'), as a child script gets it in its argv. */
export function clientOf(backend: string, options: PoolOptions): Client {
  if (backend === 'Pool') return new Pool(options);
  if (backend === 'NodePool') return new NodePool(options);
  throw new Error(`unknown backend ${backend}`);
}

/** A child script's assertion: throws (and so fails the child through runMain) unless `cond`. */
export function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`check failed: ${what}`);
}

/** Runs a child script's `main`: a failure prints its stack and sets the exit code, never process.exit (the child must end by itself). */
export function runMain(main: () => Promise<void>): Promise<void> {
  return main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
