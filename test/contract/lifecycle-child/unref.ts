// Child process of contract/unref.test.ts: uses a client of one backend (argv[2]) in one
// way (argv[3]) against the parent's servers (argv[4]: plain origin, argv[5]: an https
// origin whose handshakes the parent holds), never calls close(), destroy() or
// process.exit, and prints "ok <mode>" when everything went as expected. Whether the
// process then exits by itself is the test.
//
// The IPC channel is unref'd, so it never holds the process: the parent's "ping" is
// answered with "pong" only while something else keeps the child alive.
import { AbortError, type Client, type PoolOptions } from '../../../dist/index.js';
import { check, clientOf, runMain } from '../../support.js';

process.on('message', (m) => {
  if (m === 'ping') process.send!('pong');
});
process.channel!.unref();

const [backend, mode, url, tlsURL] = process.argv.slice(2) as [string, string, string, string];
const client = (options: PoolOptions): Client => clientOf(backend, options);

async function main(): Promise<void> {
  switch (mode) {
    // ---- nothing waits: the process must exit by itself
    case 'get': {
      // Pool: one socket served the request, three eagerly dialed ones sit idle.
      const p = client({ baseURL: url, size: 4 });
      check((await p.get('/')).statusCode === 200, 'status');
      break;
    }
    case 'get-absolute': {
      const p = client({ size: 2 });
      check((await p.get(url + '/')).statusCode === 200, 'status');
      break;
    }
    case 'ready': {
      const p = client({ baseURL: url, size: 4 });
      await p.ready();
      break;
    }
    case 'queued': {
      // More requests than sockets: some waited in the queue.
      const p = client({ baseURL: url, size: 1 });
      const all = await Promise.all(Array.from({ length: 4 }, (_, i) => p.get(`/${i}`)));
      check(all.every((r) => r.statusCode === 200), 'statuses');
      break;
    }
    case 'eager-tls': {
      // Pool dials at construction; the handshakes never finish and nobody waits for them.
      client({ baseURL: tlsURL, size: 2, insecureSkipVerify: true });
      break;
    }
    case 'aborted-dial': {
      // A request waited on a dial (a handshake that never finishes) and gave up.
      const p = client({ baseURL: tlsURL, size: 1, insecureSkipVerify: true });
      const ac = new AbortController();
      const r = p.get('/', { signal: ac.signal });
      setImmediate(() => ac.abort());
      const err = await r.then(
        () => null,
        (e: unknown) => e,
      );
      check(err instanceof AbortError, `aborted: ${String(err)}`);
      break;
    }
    // ---- a caller waits: the process must live until the parent lets the server answer
    case 'inflight': {
      const p = client({ baseURL: url, size: 2 });
      check((await p.get('/hold')).text() === 'released', 'held response');
      break;
    }
    case 'queued-held': {
      // The second request waits in the queue behind the first, whose answer is held.
      const p = client({ baseURL: url, size: 1 });
      const [a, b] = await Promise.all([p.get('/hold'), p.get('/hold')]);
      check(a.text() === 'released' && b.text() === 'released', 'held responses');
      break;
    }
    case 'dial-tls': {
      // The request waits on its socket's handshake.
      const p = client({ baseURL: tlsURL, size: 2, insecureSkipVerify: true });
      check((await p.get('/')).statusCode === 200, 'status');
      break;
    }
    case 'ready-tls': {
      // ready() waits on the eager dials' handshakes.
      const p = client({ baseURL: tlsURL, size: 2, insecureSkipVerify: true });
      await p.ready();
      check(p.stats().totals.connected === 2, 'connected');
      break;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
  process.stdout.write(`ok ${mode}\n`);
}

void runMain(main);
