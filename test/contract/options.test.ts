// Options as a new user gets them wrong: unknown names (with the name meant), values of the
// wrong type or out of range (with the range), Pool-only options on NodePool, and the same
// for the options of one call; each refused with InvalidArgumentError before anything is
// dialed or written. Both backends; the list they are checked against is OPTIONS
// (src/options.ts), which also writes the README's tables (test/unit/options-readme.test.ts).
import * as net from 'node:net';
import { expect } from 'chai';
import { InvalidArgumentError, type PoolOptions, type RequestOptions } from '../../dist/index.js';
import { OPTIONS } from '../../dist/options.js';
import { cleanup, listen, rejects } from '../helpers.js';
import { BACKENDS } from './backends.js';

/** A server that counts its connections: none may be opened by a refused call. */
async function countingServer(): Promise<{ url: string; connections: () => number }> {
  let n = 0;
  const port = await listen(
    net.createServer((s) => {
      n++;
      s.destroy();
    }),
  );
  return { url: `http://127.0.0.1:${port}`, connections: () => n };
}

const POOL_ONLY = OPTIONS.filter((o) => o.backends === 'Pool').map((o) => o.name);

for (const backend of BACKENDS) {
  describe(`${backend.name}: options are checked`, () => {
    afterEach(cleanup);

    const refuses = (options: unknown, message: string): void => {
      expect(() => new backend.cls(options as PoolOptions)).to.throw(InvalidArgumentError, message);
    };

    it('refuses unknown constructor options, naming the option and the one probably meant', () => {
      refuses({ sizee: 4 }, 'unknown pool option "sizee" (did you mean "size"?)');
      refuses({ connections: 4 }, 'unknown pool option "connections" (did you mean "size"?)');
      refuses({ timeout: 100 }, 'unknown pool option "timeout" (did you mean "requestTimeout"? "timeout" is an option of a call, not of the pool)');
      refuses({ BodyTimeout: 1 }, 'unknown pool option "BodyTimeout" (did you mean "bodyTimeout"?)');
      refuses({ headersTimeout: 1 }, 'did you mean "responseHeaderTimeout"?');
      refuses({ signal: new AbortController().signal }, '"signal" is an option of a call, not of the pool');
      refuses({ zzz: 1 }, 'unknown pool option "zzz"');
    });

    it('bounds every numeric option and says its range', () => {
      refuses({ size: 2 ** 31 }, 'size must be an integer from 1 to 4096, got 2147483648');
      refuses({ size: 0 }, 'size must be an integer from 1 to 4096, got 0');
      refuses({ size: 1.5 }, 'size must be an integer');
      refuses({ size: '8' }, 'size must be an integer from 1 to 4096, got "8"');
      refuses({ dialTimeout: -1 }, 'dialTimeout must be a number of milliseconds from 0 to 2147483647, got -1');
      refuses({ bodyTimeout: 2 ** 31 }, 'bodyTimeout must be a number of milliseconds from 0 to 2147483647');
      refuses({ requestTimeout: NaN }, 'requestTimeout must be a number of milliseconds');
      refuses({ maxHeaderSize: 0 }, 'maxHeaderSize must be an integer from 1 to 16777216');
      refuses({ maxResponseSize: -1 }, 'maxResponseSize must be an integer from 0 to 9007199254740991 (or Infinity)');
      refuses({ maxConnsPerHost: 1e9 }, 'maxConnsPerHost must be an integer from 1 to 4096');
      // Every numeric option of the list, one past each end of its range.
      for (const o of OPTIONS.filter((x) => x.scope !== 'request' && (x.type === 'ms' || x.type === 'integer' || x.type === 'bytes'))) {
        if (backend.name === 'NodePool' && o.backends === 'Pool') continue;
        const max = o.max ?? (o.type === 'ms' ? 2_147_483_647 : Number.MAX_SAFE_INTEGER);
        refuses({ [o.name]: (o.min ?? 0) - 1 }, `${o.name} must be`);
        if (o.type !== 'bytes' && max < Number.MAX_SAFE_INTEGER) refuses({ [o.name]: max + 1 }, `${o.name} must be`);
      }
    });

    it('refuses values of the wrong type', () => {
      refuses({ baseURL: 1 }, 'baseURL must be a string, got 1');
      refuses({ insecureSkipVerify: 'yes' }, 'insecureSkipVerify must be a boolean, got "yes"');
      refuses({ tls: null }, 'tls must be an object, got null');
      refuses({ lookup: {} }, 'lookup must be a function, got an object');
      refuses({ socketPath: '' }, 'socketPath must be a non-empty string');
      refuses(5, 'options must be an object');
    });

    it('takes every option of its backend, given a valid value', () => {
      const all: Record<string, unknown> = {};
      for (const o of OPTIONS) {
        if (o.scope === 'request' || (backend.name === 'NodePool' && o.backends === 'Pool')) continue;
        all[o.name] = o.type === 'ms' || o.type === 'integer' ? Math.max(o.min ?? 0, 1) : o.type === 'boolean' ? false : o.type === 'object' ? {} : o.type === 'function' ? () => {} : o.type === 'bytes' ? Infinity : o.name === 'baseURL' ? '' : '/tmp/none.sock';
      }
      // The two with shapes of their own; proxy and proxyEnv exclude each other, so proxyEnv goes alone.
      all['proxy'] = 'http://127.0.0.1:1';
      all['retry'] = 2;
      const { proxyEnv, ...rest } = all;
      backend.pool(rest as PoolOptions);
      backend.pool({ proxyEnv } as PoolOptions);
    });

    it(backend.name === 'NodePool' ? 'refuses every Pool-only option, saying so' : 'takes the Pool-only options', () => {
      expect(POOL_ONLY).to.include.members(['maxConnAge', 'maxRequestsPerConn', 'dnsRefreshInterval', 'pipelining']);
      for (const name of POOL_ONLY) {
        const options = { [name]: 1 } as PoolOptions;
        if (backend.name === 'NodePool') refuses(options, `${name} is a Pool-only option`);
        else backend.pool(options);
      }
    });

    it('refuses unknown or bad options of a call, before any socket is opened', async () => {
      const srv = await countingServer();
      const p = backend.pool({ baseURL: srv.url, size: 1 });
      const call = (o: unknown): Promise<unknown> => p.get('/', o as RequestOptions);
      const e1 = await rejects(call({ timout: 5 }), InvalidArgumentError, 'HCP_INVALID_ARGUMENT');
      expect(e1.message).to.equal('unknown request option "timout" (did you mean "timeout"?)');
      expect((await rejects(call({ sizee: 1 }), InvalidArgumentError)).message).to.equal('unknown request option "sizee" (did you mean "size"? it is a pool option: give it to the constructor)');
      expect((await rejects(call({ connections: 1 }), InvalidArgumentError)).message).to.include('(did you mean "size"?');
      expect((await rejects(call({ bodyTimeout: 1 }), InvalidArgumentError)).message).to.include('"bodyTimeout" is a pool option');
      expect((await rejects(call({ timeout: -5 }), InvalidArgumentError)).message).to.equal('timeout must be a number of milliseconds from 0 to 2147483647, got -5');
      expect((await rejects(call({ expectContinue: 1 }), InvalidArgumentError)).message).to.equal('expectContinue must be a boolean, got 1');
      expect((await rejects(call({ signal: {} }), InvalidArgumentError)).message).to.include('signal must be an AbortSignal');
      expect((await rejects(call({ headers: 'x' }), InvalidArgumentError)).message).to.include('headers must be an object');
      await rejects(p.post('/', 'x', { method: 'PUT' } as RequestOptions), InvalidArgumentError);
      // request(), stream() and dispatch() take method, path and body beside the options.
      const e2 = await rejects(p.request({ method: 'GET', path: '/', methd: 'x' } as never), InvalidArgumentError);
      expect(e2.message).to.equal('unknown request option "methd" (did you mean "method"?)');
      await rejects(p.stream({ method: 'GET', path: '/', timout: 1 } as never), InvalidArgumentError);
      // dispatch() is undici's: names it does not know pass, as in undici (interceptors add their
      // own); the values of this library's options are checked all the same.
      expect(() => p.dispatch({ method: 'GET', path: '/', timeout: -5 } as never, {})).to.throw(InvalidArgumentError, 'timeout must be');
      expect(() => p.dispatch({ method: 'GET', path: '/', zeroCopy: 'yes' } as never, {})).to.throw(InvalidArgumentError, 'zeroCopy must be a boolean');
      // Undefined values are as if absent; known options pass.
      await p.request({ method: 'GET', path: '/', body: undefined, headers: undefined, signal: undefined, timeout: undefined }).catch(() => {});
      expect(srv.connections(), 'only the valid call dialed').to.be.at.most(1);
    });
  });
}
