// Real servers for the benchmarks that need them (nginx, HAProxy): finding the binary,
// a free loopback port, an nginx configuration, and a daemon run until stopped.
// Loopback only.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The executable `name` ($`env` first, then the sbin folders and PATH), or null. */
export function findBinary(name, env) {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const c of [env && process.env[env], `/usr/sbin/${name}`, `/usr/local/sbin/${name}`, ...dirs.map((d) => path.join(d, name))]) {
    if (!c) continue;
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      // not there
    }
  }
  return null;
}

/** A loopback port free just now. */
export async function freePort() {
  const s = net.createServer();
  await new Promise((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/**
 * An nginx.conf in `dir` for one worker in the foreground, no access log, every temp path
 * in `dir`, listening on 127.0.0.1:`port`; `http` and `location` are the lines that differ.
 */
export function nginxConfig({ dir, port, workerConnections = 1024, http = '', location }) {
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections ${workerConnections}; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http}
  server {
    listen 127.0.0.1:${port};
    location / { ${location} }
  }
}
`,
  );
  return ['-p', dir, '-e', `${dir}/nginx-error.log`, '-c', conf];
}

/**
 * Runs `bin args` until its `stop()`; resolves once `port` accepts connections, and
 * throws with what it printed if it exits or never listens.
 */
export async function startDaemon(name, bin, args, port) {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (log += d));
  let alive = true;
  const exited = new Promise((resolve) => child.once('exit', () => ((alive = false), resolve())));
  const stop = async () => {
    if (alive) child.kill('SIGKILL');
    await exited;
  };
  for (let attempt = 0; ; attempt++) {
    if (!alive) throw new Error(`${name} exited:\n${log}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return { url: `http://127.0.0.1:${port}`, stop };
    if (attempt > 300) {
      await stop();
      throw new Error(`${name} did not listen:\n${log}`);
    }
    await sleep(10);
  }
}
