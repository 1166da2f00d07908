// Loaded with `node --import` before a README example runs: every connection the example
// makes to a name or address that is not loopback goes to the test's server instead
// (127.0.0.1:$HCP_EXAMPLE_PORT), so an example may say `https://api.internal:8443` and
// stay as a user would write it, while no byte leaves this machine. Loopback targets
// (localhost, 127/8, ::1: a server the example starts itself) are left alone.
// - dns.lookup answers every other name with 127.0.0.2, so a lookup (the pool's own,
//   with { all: true }) succeeds without asking any resolver;
// - net.Socket#connect sends a target that is a name, 127.0.0.2 or not loopback to the
//   server; every net, tls, http and fetch connection passes there;
// - tls.connect skips certificate checks on such a socket (the server cannot hold a
//   certificate for names it does not know).
import type * as Dns from 'node:dns';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import * as net from 'node:net';
import type * as Tls from 'node:tls';

// The modules' own objects (an ESM namespace cannot be assigned to); syncBuiltinESMExports
// at the end hands the new functions to every `import` of them.
const require = createRequire(import.meta.url);
const dns = require('node:dns') as typeof Dns;
const tls = require('node:tls') as typeof Tls;

const port = Number(process.env.HCP_EXAMPLE_PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('HCP_EXAMPLE_PORT is not set');

const MARK = '127.0.0.2';
const redirected = new WeakSet<net.Socket>();

function loopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (host === MARK) return false;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | Dns.LookupAddress[], family?: number) => void;
const realLookup = dns.lookup;
function lookup(host: string, options: unknown, cb?: LookupCallback): void {
  if (typeof options === 'function') return lookup(host, {}, options as LookupCallback);
  if (loopback(host) || net.isIP(host) !== 0) {
    (realLookup as (h: string, o: unknown, c: LookupCallback) => void)(host, options, cb!);
    return;
  }
  const all = typeof options === 'object' && options !== null && (options as Dns.LookupOptions).all === true;
  process.nextTick(() => (all ? cb!(null, [{ address: MARK, family: 4 }]) : cb!(null, MARK, 4)));
}
(dns as { lookup: unknown }).lookup = lookup;
(dns.promises as { lookup: unknown }).lookup = (host: string, options?: Dns.LookupOptions) =>
  new Promise((resolve, reject) => lookup(host, options ?? {}, (err, address, family) =>
    (err !== null ? reject(err) : resolve(Array.isArray(address) ? address : { address, family }))));

type Connect = (this: net.Socket, ...args: unknown[]) => net.Socket;
const realConnect = net.Socket.prototype.connect as unknown as Connect;
(net.Socket.prototype as unknown as { connect: Connect }).connect = function connect(this: net.Socket, ...args: unknown[]) {
  // Node's own callers pass their normalized [options, cb] array as the first argument.
  const normalized = Array.isArray(args[0]) ? (args[0] as unknown[]) : null;
  const first = normalized === null ? args[0] : normalized[0];
  // node:http passes `path: null` for TCP.
  if (typeof first === 'object' && first !== null && (first as { path?: unknown }).path == null) {
    const o = first as net.TcpNetConnectOpts;
    if (!loopback(o.host ?? 'localhost')) {
      redirected.add(this);
      const to = { ...o, host: '127.0.0.1', port, lookup: undefined, autoSelectFamily: false };
      if (normalized !== null) normalized[0] = to;
      else args[0] = to;
    }
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // connect(port, host?, cb?)
    const host = typeof args[1] === 'string' ? args[1] : 'localhost';
    if (!loopback(host)) {
      redirected.add(this);
      return realConnect.call(this, { host: '127.0.0.1', port }, ...args.slice(typeof args[1] === 'string' ? 2 : 1));
    }
  }
  return realConnect.apply(this, args);
};

type TLSConnect = (...args: unknown[]) => Tls.TLSSocket;
const realTLSConnect = tls.connect as unknown as TLSConnect;
(tls as { connect: unknown }).connect = function connect(...args: unknown[]) {
  const i = args.findIndex((a) => typeof a === 'object' && a !== null);
  if (i >= 0) {
    const o = args[i] as Tls.ConnectionOptions;
    const host = o.host ?? (typeof args[1] === 'string' ? args[1] : 'localhost');
    if ((o.socket !== undefined && redirected.has(o.socket as net.Socket)) || (o.socket === undefined && !loopback(host))) {
      args[i] = { ...o, rejectUnauthorized: false };
    }
  }
  return realTLSConnect(...args);
};

syncBuiltinESMExports();
