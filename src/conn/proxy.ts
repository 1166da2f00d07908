// Reaching a target through a proxy, one socket at a time: TCP to the proxy, TLS to
// it for an https proxy, then for an https target the CONNECT exchange, after which the
// socket is a tunnel to the target and TLS to the target runs inside it as on a direct
// socket (dial.ts's startTLS, the target's name for SNI and the certificate check).
// An http target needs no tunnel: its requests go to the proxy in absolute form.
// The CONNECT head is built and its answer parsed from bytes (connectHead, ConnectReply).
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ConnectError, HttpClientPoolError, ProxyError, TLSError } from '../errors.js';
import type { ProxyServer } from './proxy-env.js';

/** How the sockets of one origin reach it through a proxy. */
export interface ProxyRoute {
  readonly server: ProxyServer;
  /** An https target: each socket is a CONNECT tunnel. Else requests go in absolute form. */
  readonly tunnel: boolean;
  /** The CONNECT request (tunnel only). */
  readonly connectHead: Buffer | null;
  /** TLS to the proxy itself (an https proxy), or null. */
  readonly tls: tls.ConnectionOptions | null;
}

/** The answer to a CONNECT longer than this is refused: a proxy's answer is a few lines. */
const MAX_REPLY = 16 * 1024;

/** The route to `hostname:port` through `server`. `tlsOptions`: the pool's TLS settings, used for an https proxy. */
export function makeRoute(server: ProxyServer, secureTarget: boolean, hostname: string, port: number, tlsOptions: tls.ConnectionOptions): ProxyRoute {
  let proxyTLS: tls.ConnectionOptions | null = null;
  if (server.secure) {
    // The pool's CA and client certificate serve for the proxy too; its name is the proxy's.
    const { servername: _target, ...rest } = tlsOptions;
    proxyTLS = { ALPNProtocols: ['http/1.1'], ...rest, host: server.hostname };
    if (net.isIP(server.hostname) === 0) proxyTLS.servername = server.hostname;
  }
  return { server, tunnel: secureTarget, connectHead: secureTarget ? connectHead(hostname, port, server.headers) : null, tls: proxyTLS };
}

/** `CONNECT host:port HTTP/1.1` with the proxy's headers. */
export function connectHead(hostname: string, port: number, headers: Readonly<Record<string, string>>): Buffer {
  const authority = net.isIP(hostname) === 6 ? `[${hostname}]:${port}` : `${hostname}:${port}`;
  let head = `CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n`;
  for (const name of Object.keys(headers)) head += `${name}: ${headers[name]}\r\n`;
  return Buffer.from(head + '\r\n', 'latin1');
}

/**
 * A proxy's answer to CONNECT, fed as it arrives. `feed` returns false while the head
 * is incomplete; then `status` is set and `rest` holds any bytes after the head.
 * A malformed or oversized answer throws ProxyError.
 */
export class ConnectReply {
  status = 0;
  reason = '';
  rest: Buffer | null = null;
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly proxy: string) {}

  feed(chunk: Buffer): boolean {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const end = this.buf.indexOf('\r\n\r\n', 0, 'latin1');
    if (end < 0) {
      if (this.buf.length > MAX_REPLY) throw new ProxyError(`the proxy ${this.proxy} sent an answer to CONNECT longer than ${MAX_REPLY} bytes`, 0, this.proxy, {});
      return false;
    }
    const lineEnd = this.buf.indexOf('\r\n', 0, 'latin1');
    const line = this.buf.toString('latin1', 0, lineEnd);
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(line);
    if (m === null) throw new ProxyError(`the proxy ${this.proxy} answered CONNECT with no HTTP status line: ${JSON.stringify(line.slice(0, 80))}`, 0, this.proxy, {});
    this.status = Number(m[1]);
    this.reason = m[2] ?? '';
    const rest = this.buf.subarray(end + 4);
    this.rest = rest.length === 0 ? null : rest;
    return true;
  }
}

/** What a proxy dial reports, once. */
export interface TunnelSink {
  /** `socket` now carries the origin's bytes: to the target through the tunnel, or to the proxy (absolute form). */
  tunnelled(socket: net.Socket): void;
  tunnelFailed(err: HttpClientPoolError): void;
}

/**
 * One socket's way through the proxy. It owns the socket's events until it reports;
 * `cancel()` gives it up (a dial timer, a pool destroyed) with no report.
 */
export class ProxyDial {
  /** The TCP socket to the proxy; destroying it ends the dial. */
  readonly tcp: net.Socket;
  private socket: net.Socket;
  private reply: ConnectReply | null = null;
  private done = false;

  constructor(
    private readonly route: ProxyRoute,
    private readonly sink: TunnelSink,
    onread: net.OnReadOpts | undefined,
  ) {
    const { server } = route;
    this.onConnect = this.onConnect.bind(this);
    this.onSecure = this.onSecure.bind(this);
    this.onData = this.onData.bind(this);
    this.onError = this.onError.bind(this);
    this.onClose = this.onClose.bind(this);
    // onread (reads into the caller's buffer) only where no byte is read here: plain, no CONNECT.
    const direct = !server.secure && !route.tunnel;
    this.tcp = net.connect({
      host: server.hostname,
      port: server.port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 60_000,
      ...(direct && onread !== undefined ? { onread } : {}),
    });
    this.socket = this.tcp;
    this.tcp.on('connect', this.onConnect);
    this.tcp.on('error', this.onError);
    this.tcp.on('close', this.onClose);
  }

  /** Gives the dial up: the sockets are destroyed and nothing is reported. */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.unlisten();
    this.socket.on('error', ignore);
    this.tcp.on('error', ignore);
    this.socket.destroy();
    this.tcp.destroy();
  }

  private onConnect(): void {
    const { route } = this;
    if (route.tls === null) return this.onSecure();
    this.socket = tls.connect({ ...route.tls, socket: this.tcp });
    this.socket.on('secureConnect', this.onSecure);
    this.socket.on('error', this.onError);
    this.socket.on('close', this.onClose);
  }

  /** Connected to the proxy (and secured, for an https proxy). */
  private onSecure(): void {
    const { route } = this;
    if (!route.tunnel) return this.succeed();
    this.reply = new ConnectReply(route.server.uri);
    this.socket.on('data', this.onData);
    this.socket.write(route.connectHead!);
  }

  private onData(chunk: Buffer): void {
    const reply = this.reply!;
    let complete: boolean;
    try {
      complete = reply.feed(chunk);
    } catch (err) {
      return this.fail(err as HttpClientPoolError);
    }
    if (!complete) return;
    const uri = this.route.server.uri;
    if (reply.status < 200 || reply.status > 299) {
      const what = reply.status === 407 ? 'asked for proxy authentication (407)' : `refused the tunnel: ${reply.status}${reply.reason === '' ? '' : ` ${reply.reason}`}`;
      return this.fail(new ProxyError(`the proxy ${uri} ${what}`, reply.status, uri, {}));
    }
    this.socket.removeListener('data', this.onData);
    // The target cannot have spoken before our TLS hello; whatever came is its, not ours to drop.
    if (reply.rest !== null) this.socket.unshift(reply.rest);
    this.succeed();
  }

  private succeed(): void {
    this.done = true;
    this.unlisten();
    this.sink.tunnelled(this.socket);
  }

  private onError(err: Error): void {
    // A timer of ours that destroyed the socket (NodePool's dial timer) says what happened itself.
    if (err instanceof HttpClientPoolError) return this.fail(err);
    const uri = this.route.server.uri;
    if (this.socket !== this.tcp) this.fail(new TLSError(`TLS to the proxy ${uri} failed: ${err.message}`, { cause: err }));
    else this.fail(new ConnectError(`connect to the proxy ${uri} failed: ${err.message}`, { cause: err }));
  }

  private onClose(): void {
    const uri = this.route.server.uri;
    if (this.reply !== null) this.fail(new ProxyError(`the proxy ${uri} closed the connection before answering CONNECT`, 0, uri, {}));
    else this.fail(new ConnectError(`the connection to the proxy ${uri} closed while connecting`, {}));
  }

  private fail(err: HttpClientPoolError): void {
    if (this.done) return;
    this.cancel();
    this.sink.tunnelFailed(err);
  }

  private unlisten(): void {
    for (const s of [this.tcp, this.socket]) {
      s.removeListener('connect', this.onConnect);
      s.removeListener('secureConnect', this.onSecure);
      s.removeListener('data', this.onData);
      s.removeListener('error', this.onError);
      s.removeListener('close', this.onClose);
    }
  }
}

function ignore(): void {}
