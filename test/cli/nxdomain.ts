// Loaded with `node --import` into the CLI's process by test/cli/dead.test.ts: every name
// lookup fails with ENOTFOUND at once, as for a host that does not exist, and no resolver
// is asked (the test names no real host).
import type * as Dns from 'node:dns';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const dns = createRequire(import.meta.url)('node:dns') as typeof Dns;

function notFound(host: string, options: unknown, cb?: (err: NodeJS.ErrnoException) => void): void {
  const callback = (typeof options === 'function' ? options : cb) as (err: NodeJS.ErrnoException) => void;
  const err: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: host });
  process.nextTick(() => callback(err));
}
(dns as { lookup: unknown }).lookup = notFound;
syncBuiltinESMExports();
