// Child process of lifecycle.test.ts: uses a Pool in one way (argv[2]) against the
// parent's server (argv[3]), then must exit by itself. It never calls process.exit:
// if a socket or timer of the pool stayed referenced, the process would hang and the
// parent would kill it. Prints "ok <mode>" when everything went as expected.
import { AbortError, ConnectError, Pool, PoolDestroyedError } from '../../dist/index.js';

const [mode, url] = process.argv.slice(2) as [string, string];

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`check failed: ${what}`);
}

async function main(): Promise<void> {
  switch (mode) {
    case 'close-after-request': {
      const p = new Pool({ baseURL: url, size: 4 });
      check((await p.get('/')).statusCode === 200, 'status');
      await p.close();
      break;
    }
    case 'destroy-after-request': {
      const p = new Pool({ baseURL: url, size: 4 });
      check((await p.get('/')).statusCode === 200, 'status');
      p.destroy();
      break;
    }
    case 'idle-close': {
      // Every socket has served a request and sits idle (idle timers armed).
      const p = new Pool({ baseURL: url, size: 4 });
      await Promise.all(Array.from({ length: 8 }, () => p.get('/')));
      check(p.stats().totals.connected === 4, 'all connected');
      await p.close();
      break;
    }
    case 'unused-close': {
      // Never sent a request: only the eager dials.
      const p = new Pool({ baseURL: url, size: 4 });
      await p.ready();
      await p.close();
      break;
    }
    case 'connecting-close': {
      // Closed while the eager dials are still in progress.
      const p = new Pool({ baseURL: url, size: 4 });
      await p.close();
      break;
    }
    case 'connecting-destroy': {
      const p = new Pool({ baseURL: url, size: 4 });
      p.destroy();
      break;
    }
    case 'queued-aborted': {
      const p = new Pool({ baseURL: url, size: 1 });
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
      const p = new Pool({ baseURL: url, size: 2, requestTimeout: 0, responseHeaderTimeout: 0 });
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
      const p = new Pool({ baseURL: url, size: 3 });
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

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
