// A forward proxy for the tests, on loopback: CONNECT tunnels, requests in absolute
// form (forwarded on one upstream connection per client connection), Basic auth, and
// counters of everything it sees. Written from the protocol, to be read byte by byte.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { fixture, listen } from './helpers.js';

export interface TestProxyOptions {
  /** `user:pass` the proxy requires (407 otherwise). */
  auth?: string;
  /** Answer every CONNECT with this status line instead of opening the tunnel, e.g. '403 Forbidden'. */
  refuseConnect?: string;
  /** Serve TLS to clients (an https proxy) with the test CA's "localhost" certificate. */
  secure?: boolean;
  /** Where the proxy connects for a host name (default: the name itself). */
  resolve?: (host: string) => string;
}

export interface TestProxy {
  /** `http://127.0.0.1:port` (or https:). */
  readonly url: string;
  readonly port: number;
  /** The authority of every CONNECT, in order. */
  readonly connects: string[];
  /** Tunnels opened (CONNECT answered 200). */
  tunnels: number;
  /** Request lines received in absolute form, in order. */
  readonly absolute: string[];
  /** The proxy-authorization header of each CONNECT or absolute-form request (undefined: none). */
  readonly auth: (string | undefined)[];
  /** Extra headers seen on CONNECTs, lower-case names. */
  readonly connectHeaders: Record<string, string>[];
  /** Client connections accepted. */
  connections: number;
}

interface Parsed {
  line: string;
  headers: Record<string, string>;
  raw: string;
  body: Buffer;
}

/** Reads one request (head and content-length body) from `buf`; null: incomplete. */
function parseOne(buf: Buffer): { req: Parsed; used: number } | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const raw = buf.toString('latin1', 0, end);
  const [line, ...rest] = raw.split('\r\n');
  const headers: Record<string, string> = {};
  for (const h of rest) {
    const i = h.indexOf(':');
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const len = Number(headers['content-length'] ?? 0);
  if (buf.length < end + 4 + len) return null;
  return { req: { line: line!, headers, raw, body: buf.subarray(end + 4, end + 4 + len) }, used: end + 4 + len };
}

export async function startProxy(options: TestProxyOptions = {}): Promise<TestProxy> {
  const expected = options.auth === undefined ? undefined : `Basic ${Buffer.from(options.auth).toString('base64')}`;
  const state = { connects: [] as string[], tunnels: 0, absolute: [] as string[], auth: [] as (string | undefined)[], connectHeaders: [] as Record<string, string>[], connections: 0 };

  const onConnection = (client: net.Socket): void => {
    state.connections++;
    client.on('error', () => {});
    let buf = Buffer.alloc(0);
    let upstream: net.Socket | null = null;
    let tunnel = false;
    const onData = (chunk: Buffer): void => {
      if (tunnel) return;
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const one = parseOne(buf);
        if (one === null) return;
        buf = buf.subarray(one.used);
        const { req } = one;
        const [method, target] = req.line.split(' ');
        state.auth.push(req.headers['proxy-authorization']);
        if (expected !== undefined && req.headers['proxy-authorization'] !== expected) {
          client.write('HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="test"\r\ncontent-length: 0\r\n\r\n');
          if (method === 'CONNECT') client.end();
          continue;
        }
        if (method === 'CONNECT') {
          state.connects.push(target!);
          state.connectHeaders.push(req.headers);
          if (options.refuseConnect !== undefined) {
            client.end(`HTTP/1.1 ${options.refuseConnect}\r\ncontent-length: 0\r\n\r\n`);
            return;
          }
          tunnel = true;
          const colon = target!.lastIndexOf(':');
          const host = target!.slice(0, colon).replace(/^\[|\]$/g, '');
          const up = net.connect({ host: options.resolve?.(host) ?? host, port: Number(target!.slice(colon + 1)) });
          up.on('error', () => client.destroy());
          up.once('connect', () => {
            state.tunnels++;
            client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            if (buf.length !== 0) up.write(buf);
            client.removeListener('data', onData);
            client.pipe(up);
            up.pipe(client);
          });
          client.on('close', () => up.destroy());
          return;
        }
        // Absolute form: forward in origin form, without the proxy's own header.
        state.absolute.push(req.line);
        const url = new URL(target!);
        if (upstream === null) {
          upstream = net.connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) });
          upstream.on('error', () => client.destroy());
          upstream.pipe(client);
          upstream.on('end', () => client.end());
          client.on('close', () => upstream?.destroy());
        }
        const lines = req.raw.split('\r\n').slice(1).filter((h) => !h.toLowerCase().startsWith('proxy-authorization:'));
        upstream.write(`${method} ${url.pathname}${url.search} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
        if (req.body.length !== 0) upstream.write(req.body);
      }
    };
    client.on('data', onData);
  };

  const server = options.secure === true
    ? tls.createServer({ key: fixture('server-key.pem'), cert: fixture('server.pem') }, onConnection)
    : net.createServer(onConnection);
  const port = await listen(server);
  const proxy: TestProxy = {
    url: `${options.secure === true ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    connects: state.connects,
    get tunnels() {
      return state.tunnels;
    },
    absolute: state.absolute,
    auth: state.auth,
    connectHeaders: state.connectHeaders,
    get connections() {
      return state.connections;
    },
  } as TestProxy;
  return proxy;
}
