// Child process of contract/lifecycle.test.ts: uses a client of one backend (argv[2]:
// Pool or NodePool) in one way (argv[3]) against the parent's server (argv[4]), then
// must exit by itself. It never calls process.exit:
// if a socket or timer of the pool stayed referenced, the process would hang and the
// parent would kill it. Prints "ok <mode>" when everything went as expected.
import { AbortError, ConnectError, PoolDestroyedError, type Client, type PoolOptions } from '../../../dist/index.js';
import { check, clientOf, runMain } from '../../support.js';

const [backend, mode, url] = process.argv.slice(2) as [string, string, string];
const client = (options: PoolOptions): Client => clientOf(backend, options);


async function main(): Promise<void> {
  switch (mode) {
    case 'close-after-request': {
      const p = client({ baseURL: url, size: 4 });
      check((await p.get('/')).statusCode === 200, 'status');
      await p.close();
      break;
    }
    case 'destroy-after-request': {
      const p = client({ baseURL: url, size: 4 });
      check((await p.get('/')).statusCode === 200, 'status');
      p.destroy();
      break;
    }
    case 'idle-close': {
      // Every socket has served a request and sits idle (idle timers armed).
      const p = client({ baseURL: url, size: 4 });
      await Promise.all(Array.from({ length: 8 }, () => p.get('/')));
      check(p.stats().totals.connected === 4, 'all connected');
      await p.close();
      break;
    }
    case 'unused-close': {
      // Never sent a request: only the eager dials (a backend without them has no socket).
      const p = client({ baseURL: url, size: 4 });
      await p.ready();
      await p.close();
      break;
    }
    case 'connecting-close': {
      // Closed while the eager dials (if any) are still in progress.
      const p = client({ baseURL: url, size: 4 });
      await p.close();
      break;
    }
    case 'connecting-destroy': {
      const p = client({ baseURL: url, size: 4 });
      p.destroy();
      break;
    }
    case 'request-dialing-destroy': {
      // Destroyed while a request's own socket is still connecting.
      const p = client({ baseURL: url, size: 2 });
      const r = p.get('/');
      p.destroy();
      const err = await r.then(
        () => null,
        (e: unknown) => e,
      );
      check(err instanceof PoolDestroyedError, `dialing: ${String(err)}`);
      break;
    }
    case 'queued-aborted': {
      const p = client({ baseURL: url, size: 1 });
      const ac = new AbortController();
      const first = p.get('/');
      const queued = p.get('/', { signal: ac.signal });
      ac.abort();
      const err = await queued.then(
        () => null,
        (e: unknown) => e,
      );
      check(err instanceof AbortError && (err as AbortError).phase === 'queue', `queued abort: ${String(err)}`);
      check((await first).statusCode === 200, 'first status');
      await p.close();
      break;
    }
    case 'inflight-destroy': {
      // The server never answers /hold.
      const p = client({ baseURL: url, size: 2, requestTimeout: 0, responseHeaderTimeout: 0 });
      const held = p.get('/hold');
      check((await p.get('/')).statusCode === 200, 'status');
      p.destroy();
      const err = await held.then(
        () => null,
        (e: unknown) => e,
      );
      check(err instanceof PoolDestroyedError, `held: ${String(err)}`);
      break;
    }
    case 'dial-failed': {
      // url is a closed port; the pool is neither closed nor destroyed.
      const p = client({ baseURL: url, size: 3 });
      const err = await p.get('/').then(
        () => null,
        (e: unknown) => e,
      );
      check(err instanceof ConnectError, `dial: ${String(err)}`);
      break;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
  process.stdout.write(`ok ${mode}\n`);
}

void runMain(main);
