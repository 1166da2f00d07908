// AddressBook's memory of a failed lookup, on the test's own clock: kept for
// FAILED_LOOKUP_MS, then the name is looked up again; a success forgets it.
import { expect } from 'chai';
import type { LookupFunction } from 'node:net';
import { AddressBook, FAILED_LOOKUP_MS, isLookupFailure } from '../../dist/conn/addresses.js';

describe('AddressBook: failed lookups', () => {
  it(`keeps a failure for ${FAILED_LOOKUP_MS} ms, answers every slot with it, then asks again`, async () => {
    let now = 0;
    let calls = 0;
    let fail = true;
    const lookup = ((_h: string, _o: unknown, cb: (err: Error | null, a?: unknown) => void): void => {
      calls++;
      if (fail) cb(Object.assign(new Error('getaddrinfo ENOTFOUND h.invalid'), { code: 'ENOTFOUND' }));
      else cb(null, [{ address: '127.0.0.1', family: 4 }]);
    }) as unknown as LookupFunction;
    const book = new AddressBook('h.invalid', lookup, 0, null, () => now);
    const dial = (slot: number): Promise<Error | string> =>
      new Promise((resolve) => book.lookupFor(slot)('h.invalid', {}, (err, address) => resolve(err ?? String(address))));
    const first = await dial(0);
    expect(isLookupFailure(first)).to.equal(true);
    now += FAILED_LOOKUP_MS - 1;
    expect(await Promise.all([dial(1), dial(2)])).to.deep.equal([first, first]);
    expect(calls).to.equal(1);
    now += 1;
    fail = false;
    expect(await dial(3)).to.equal('127.0.0.1');
    expect(calls).to.equal(2);
    expect(isLookupFailure(new Error('connect ECONNREFUSED'))).to.equal(false);
  });
});
