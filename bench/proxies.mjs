// Real forward proxies for the proxy bench and tests (tinyproxy, squid): a config in a
// fresh temp folder, on a free loopback port, run in the foreground until stopped.
// Loopback only. Each start resolves to { name, url, stop } or null with the reason
// (printed by the caller) when the binary is absent.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findBinary, freePort, startDaemon } from './daemons.mjs';

/** tinyproxy (1.11 closes its client connection after each response, without saying so). */
export async function startTinyproxy({ auth } = {}) {
  const bin = findBinary('tinyproxy', 'TINYPROXY');
  if (bin === null) return { skip: 'tinyproxy is not installed (apt-get install tinyproxy)' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-tinyproxy-'));
  const port = await freePort();
  const conf = path.join(dir, 'tinyproxy.conf');
  fs.writeFileSync(
    conf,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 60',
      'MaxClients 512',
      'Allow 127.0.0.1',
      'LogLevel Critical',
      'DisableViaHeader Yes',
      // No ConnectPort line: CONNECT to any port (the tests' targets sit on free ports).
      ...(auth === undefined ? [] : [`BasicAuth ${auth.split(':')[0]} ${auth.split(':')[1]}`]),
      '',
    ].join('\n'),
  );
  const d = await startDaemon('tinyproxy', bin, ['-d', '-c', conf], port);
  return { name: 'tinyproxy', url: d.url, port, stop: async () => (await d.stop(), fs.rmSync(dir, { recursive: true, force: true })) };
}

/** squid: no cache, no access log, CONNECT to any port from loopback. */
export async function startSquid() {
  const bin = findBinary('squid', 'SQUID');
  if (bin === null) return { skip: 'squid is not installed (apt-get install squid)' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-squid-'));
  fs.chmodSync(dir, 0o777); // run as root, squid writes as its own user
  const port = await freePort();
  const conf = path.join(dir, 'squid.conf');
  fs.writeFileSync(
    conf,
    [
      `http_port 127.0.0.1:${port}`,
      'http_access allow localhost',
      'http_access deny all',
      'cache deny all',
      'access_log none',
      `cache_log ${dir}/cache.log`,
      `pid_filename ${dir}/squid.pid`,
      `coredump_dir ${dir}`,
      'cache_mem 8 MB',
      'shutdown_lifetime 0 seconds',
      'client_persistent_connections on',
      'server_persistent_connections on',
      '',
    ].join('\n'),
  );
  const d = await startDaemon('squid', bin, ['-N', '-f', conf], port);
  return { name: 'squid', url: d.url, port, stop: async () => (await d.stop(), fs.rmSync(dir, { recursive: true, force: true })) };
}

export const PROXIES = [startTinyproxy, startSquid];
