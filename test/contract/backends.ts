// The contract suite runs every backend-neutral behaviour against both backends.
// Where the two must differ, it is written here, once, in DIFFERENCES (the README
// shows the same table); tests ask `supports(backend, feature)` instead of testing
// backend names.
import { NodePool, Pool, type Client, type PoolOptions } from '../../dist/index.js';
import { OPTIONS } from '../../dist/options.js';
import { destroyAfterTest } from '../helpers.js';

export interface Backend {
  readonly name: 'Pool' | 'NodePool';
  /** A client of this backend, destroyed after the test. */
  pool(options: PoolOptions): Client;
  /** The class itself (for what a test must construct and destroy on its own). */
  readonly cls: new (options?: PoolOptions) => Client;
  /** The same client typed as the class (an undici Dispatcher too), destroyed after the test. */
  dispatcher(options: PoolOptions): Pool | NodePool;
}

/** The one table of backends: every suite that runs on both takes them from here. */
export const BACKENDS: readonly Backend[] = [
  { name: 'Pool', pool: (o) => destroyAfterTest(new Pool(o)), cls: Pool, dispatcher: (o) => destroyAfterTest(new Pool(o)) },
  { name: 'NodePool', pool: (o) => destroyAfterTest(new NodePool(o)), cls: NodePool, dispatcher: (o) => destroyAfterTest(new NodePool(o)) },
];

export interface Difference {
  /** Key used by tests. */
  feature: string;
  /** What `Pool` does. */
  Pool: string;
  /** What `NodePool` does. */
  NodePool: string;
  /** Which backends have the feature the tests check. */
  has: readonly Backend['name'][];
  /** Why they differ. */
  reason: string;
}

export const DIFFERENCES: readonly Difference[] = [
  {
    feature: 'eager-dial',
    Pool: 'dials all `size` sockets at construction (or first use of an origin); `ready()` waits for them',
    NodePool: 'each agent dials when it gets its first request; `ready()` opens one socket per agent and waits for them',
    has: ['Pool'],
    reason: 'http.Agent has no public way to open a socket before a request (ready() hands it one through createConnection)',
  },
  {
    feature: 'exact-request-bytes',
    Pool: 'writes exactly the request line, `host`, default then per-request headers, `content-length`; head and a small body in one write',
    NodePool: 'node:http adds `Connection: keep-alive` and writes head and body in its own order and number of writes',
    has: ['Pool'],
    reason: 'node:http serialises requests itself',
  },
  {
    feature: 'max-conns-per-host',
    Pool: 'one socket per slot; `maxConnsPerHost` other than 1 is refused',
    NodePool: 'each of the `size` agents may open `maxConnsPerHost` sockets (default 1)',
    has: ['NodePool'],
    reason: 'a Pool slot is one socket by construction',
  },
  {
    feature: 'tls-resume-every-socket',
    Pool: 'sockets dialing together wait for the first handshake\'s session ticket, so sockets 2..N resume it',
    NodePool: 'each socket offers the latest ticket known when it dials; sockets dialing before the first ticket arrives do a full handshake',
    has: ['Pool'],
    reason: 'node:http needs the socket synchronously from createConnection, so it cannot wait for a ticket',
  },
  {
    feature: 'pipelining',
    Pool: '`pipelining: N` keeps up to N idempotent requests in flight per socket (test/pool-only/pipelining.test.ts)',
    NodePool: 'refuses `pipelining` other than 1',
    has: ['Pool'],
    reason: 'node:http sends one request per socket at a time',
  },
  {
    feature: 'recycling',
    Pool: '`maxConnAge`, `maxRequestsPerConn` and a changed address set recycle sockets with `connection: close` (test/pool-only/recycle.test.ts)',
    NodePool: 'no recycling; addresses are looked up again only when an agent re-dials',
    has: ['Pool'],
    reason: 'http.Agent keeps and reuses its sockets on its own terms; there is no hook to retire one after its next response',
  },
  {
    feature: 'pool-only-options',
    Pool: 'takes them',
    NodePool: `refuses ${OPTIONS.filter((o) => o.backends === 'Pool').map((o) => `\`${o.name}\``).join(', ')} with InvalidArgumentError`,
    has: ['Pool'],
    reason: 'what they tune (pipelining, recycling, address refresh) has no hook in http.Agent',
  },
];

/** Whether `backend` has the behaviour `feature` names. Features not in the table are shared. */
export function supports(backend: Backend, feature: string): boolean {
  const d = DIFFERENCES.find((x) => x.feature === feature);
  if (d === undefined) throw new Error(`unknown feature ${feature}: add it to DIFFERENCES`);
  return d.has.includes(backend.name);
}
