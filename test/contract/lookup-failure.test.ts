// A host name that does not resolve: its failed lookup is kept for a short time
// (FAILED_LOOKUP_MS, src/conn/addresses.ts) and shared by every slot and request of the
// origin, which fail at once with ConnectError and the ENOTFOUND as cause, instead of each
// slot asking again and each request waiting for each lookup. The lookup is the test's own
// function (counting calls); no DNS server is asked.
import { expect } from 'chai';
import type { LookupFunction } from 'node:net';
import { ConnectError } from '../../dist/index.js';
import { cleanup, causeCode, rejects, settlement } from '../helpers.js';
import { BACKENDS } from './backends.js';

/** A lookup that fails every name with ENOTFOUND, answering on a later turn, and counts its calls. */
function failingLookup(): { lookup: LookupFunction; calls: () => number } {
  let calls = 0;
  const lookup = ((host: string, _options: unknown, cb: (err: Error) => void): void => {
    calls++;
    setImmediate(() => cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: host })));
  }) as unknown as LookupFunction;
  return { lookup, calls: () => calls };
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: a host name that does not resolve`, () => {
    afterEach(cleanup);

    it('is looked up once for 8 slots and 24 requests, which all fail at once with the ENOTFOUND cause', async () => {
      const { lookup, calls } = failingLookup();
      const p = backend.pool({ baseURL: 'http://nowhere.invalid:8080', size: 8, lookup });
      const all = Array.from({ length: 24 }, (_, i) => settlement(p.get(`/${i}`)));
      await Promise.all(all.map((s) => s.done));
      for (const s of all) {
        expect(s.error).to.be.instanceOf(ConnectError);
        const err = s.error as ConnectError;
        expect([err.code, causeCode(err), err.phase, err.origin]).to.deep.equal(['HCP_CONNECT', 'ENOTFOUND', 'dial', 'http://nowhere.invalid:8080']);
      }
      expect(calls(), 'lookups').to.equal(1);
      // Each request failed on its first dial (no slot can do better): 8 dials, one per slot.
      expect(p.stats().totals.errors, 'failed dials').to.equal(8);
    });

    it('ready() rejects with it, and a request made just after fails with it too, without another lookup', async () => {
      const { lookup, calls } = failingLookup();
      const p = backend.pool({ baseURL: 'http://nowhere.invalid:8080', size: 4, lookup });
      const err = await rejects(p.ready(), ConnectError, 'HCP_CONNECT');
      expect(causeCode(err)).to.equal('ENOTFOUND');
      const again = await rejects(p.get('/'), ConnectError, 'HCP_CONNECT');
      expect(causeCode(again)).to.equal('ENOTFOUND');
      expect(again.cause, 'the same lookup answer').to.equal(err.cause);
      expect(calls(), 'lookups').to.equal(1);
    });

    it('a request queued behind slots busy elsewhere fails with it at once, not after its own dial', async () => {
      const { lookup, calls } = failingLookup();
      const p = backend.pool({ size: 2, lookup });
      // Four requests on two slots: two dial, two wait in the queue; the lookup fails them all.
      const all = Array.from({ length: 4 }, (_, i) => settlement(p.get(`http://nowhere.invalid:8080/${i}`)));
      await Promise.all(all.map((s) => s.done));
      expect(all.map((s) => causeCode(s.error as Error))).to.deep.equal(['ENOTFOUND', 'ENOTFOUND', 'ENOTFOUND', 'ENOTFOUND']);
      expect(calls()).to.equal(1);
    });
  });
}
