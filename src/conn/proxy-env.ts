// Which proxy a target goes through: the `proxy` option, or proxy variables the way
// Node reads them (`proxyEnv`, or `process.env` with NODE_USE_ENV_PROXY=1), NO_PROXY
// included. Pure: strings in, settings out; nothing here opens a socket.
import { BlockList, isIP } from 'node:net';
import { InvalidArgumentError } from '../errors.js';
import type { Headers } from '../headers.js';

/** A proxy as the `proxy` option gives it: a URL, or the URL with extra headers for the proxy. */
export type ProxyOption = string | URL | { readonly uri: string | URL; readonly headers?: Headers };

/** The proxy variables `proxyEnv` (or `process.env`) holds; lowercase names win over uppercase. */
export interface ProxyEnv {
  readonly HTTP_PROXY?: string | undefined;
  readonly http_proxy?: string | undefined;
  readonly HTTPS_PROXY?: string | undefined;
  readonly https_proxy?: string | undefined;
  readonly NO_PROXY?: string | undefined;
  readonly no_proxy?: string | undefined;
}

/** One proxy server. */
export interface ProxyServer {
  /** `scheme://host:port` without credentials: what stats and errors show. */
  readonly uri: string;
  /** TLS to the proxy itself (an `https:` proxy URL). */
  readonly secure: boolean;
  /** Host to connect to (IPv6 without brackets). */
  readonly hostname: string;
  readonly port: number;
  /** Headers for the proxy: `proxy-authorization` from the URL's credentials, then the option's own. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The proxies of a pool, by the target's scheme. */
export interface ProxySettings {
  readonly http: ProxyServer | null;
  readonly https: ProxyServer | null;
  /** Targets that go direct; null: none. */
  readonly noProxy: NoProxy | null;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** Parses a proxy URL (`http://[user:pass@]host:port` or `https://...`). Throws `InvalidArgumentError`. */
export function parseProxy(value: unknown, name = 'proxy'): ProxyServer {
  let uri: unknown = value;
  let extra: Headers | undefined;
  if (value !== null && typeof value === 'object' && !(value instanceof URL)) {
    uri = (value as { uri?: unknown }).uri;
    extra = (value as { headers?: Headers }).headers;
    if (extra !== undefined && (extra === null || typeof extra !== 'object')) throw new InvalidArgumentError(`${name}.headers must be an object`);
  }
  if (typeof uri !== 'string' && !(uri instanceof URL)) {
    throw new InvalidArgumentError(`${name} must be a URL string, a URL or { uri, headers }, got ${typeof uri === 'object' ? String(uri) : typeof uri}`);
  }
  let url: URL;
  try {
    url = new URL(String(uri));
  } catch {
    throw new InvalidArgumentError(`${name} is not a valid URL: ${JSON.stringify(String(uri))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`${name} must be an http: or https: URL, got ${JSON.stringify(url.protocol)}`);
  }
  if (url.hostname === '') throw new InvalidArgumentError(`${name} has no host: ${JSON.stringify(String(uri))}`);
  const secure = url.protocol === 'https:';
  const headers: Record<string, string> = {};
  if (url.username !== '' || url.password !== '') {
    const user = decode(url.username, name);
    const pass = decode(url.password, name);
    headers['proxy-authorization'] = `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;
  }
  if (extra !== undefined) {
    for (const key of Object.keys(extra)) {
      const v = extra[key];
      if (v === undefined) continue;
      const lower = key.toLowerCase();
      const value = Array.isArray(v) ? v.join(', ') : String(v);
      // These go on the CONNECT head too, which the request encoder never sees.
      if (!TOKEN.test(key)) throw new InvalidArgumentError(`${name}.headers: invalid header name ${JSON.stringify(key)}`);
      if (BAD_VALUE.test(value)) throw new InvalidArgumentError(`${name}.headers: the value of ${key} has a control character (CR, LF, NUL, ...)`);
      // The option's own header wins over the one built from the URL's credentials.
      if (lower === 'proxy-authorization') delete headers['proxy-authorization'];
      headers[lower] = value;
    }
  }
  return {
    uri: `${url.protocol}//${url.host}`,
    secure,
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    headers,
  };
}

function decode(s: string, name: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new InvalidArgumentError(`${name} has badly percent-encoded credentials`);
  }
}

/**
 * The pool's proxy settings: `proxy` for every target; else `proxyEnv`; else, with
 * NODE_USE_ENV_PROXY=1 in `processEnv`, `processEnv` itself. Null: no proxy at all.
 */
export function resolveProxy(proxy: unknown, proxyEnv: unknown, processEnv: Record<string, string | undefined>): ProxySettings | null {
  if (proxy !== undefined && proxy !== null) {
    if (proxyEnv !== undefined) throw new InvalidArgumentError('proxy and proxyEnv cannot both be given');
    const server = parseProxy(proxy);
    return { http: server, https: server, noProxy: null };
  }
  if (proxyEnv !== undefined && proxyEnv !== null) {
    if (typeof proxyEnv !== 'object') throw new InvalidArgumentError('proxyEnv must be an object of proxy variables');
    return fromEnv(proxyEnv as Record<string, unknown>, 'proxyEnv');
  }
  if (processEnv['NODE_USE_ENV_PROXY'] === '1') return fromEnv(processEnv, 'process.env');
  return null;
}

/** Reads HTTP_PROXY / HTTPS_PROXY / NO_PROXY (lowercase first); an empty variable counts as unset. */
export function fromEnv(env: Record<string, unknown>, where: string): ProxySettings | null {
  const http = variable(env, 'http_proxy', where);
  const https = variable(env, 'https_proxy', where);
  const no = variable(env, 'no_proxy', where);
  if (http === null && https === null) return null;
  return {
    http: http === null ? null : parseProxy(http, `${where}.HTTP_PROXY`),
    https: https === null ? null : parseProxy(https, `${where}.HTTPS_PROXY`),
    noProxy: no === null ? null : new NoProxy(no),
  };
}

function variable(env: Record<string, unknown>, lower: string, where: string): string | null {
  let v = env[lower];
  if (v === undefined || v === '') v = env[lower.toUpperCase()];
  if (v === undefined || v === '') return null;
  if (typeof v !== 'string') throw new InvalidArgumentError(`${where}.${lower.toUpperCase()} must be a string`);
  return v;
}

/** The proxy `target` goes through, or null: direct. */
export function proxyFor(settings: ProxySettings | null, secure: boolean, hostname: string, port: number): ProxyServer | null {
  if (settings === null) return null;
  const server = secure ? settings.https : settings.http;
  if (server === null) return null;
  return settings.noProxy?.matches(hostname, port) === true ? null : server;
}

/**
 * NO_PROXY: entries separated by commas or spaces. `*` matches every host; a name
 * matches itself and its subdomains, `.name` (or `*.name`) its subdomains only; an
 * entry with `:port` matches that port alone; IP literals match themselves, and
 * `addr/bits` the addresses of that network.
 */
export class NoProxy {
  readonly all: boolean;
  private readonly names: { readonly name: string; readonly subOnly: boolean; readonly port: number }[] = [];
  private readonly ips: { readonly ip: string; readonly port: number }[] = [];
  private readonly nets = new BlockList();
  private hasNets = false;

  constructor(list: string) {
    let all = false;
    for (const raw of list.split(/[\s,]+/)) {
      let entry = raw.trim().toLowerCase();
      if (entry === '') continue;
      if (entry === '*') {
        all = true;
        continue;
      }
      const slash = entry.indexOf('/');
      if (slash > 0) {
        const addr = entry.slice(0, slash);
        const bits = Number(entry.slice(slash + 1));
        const family = isIP(addr);
        if (family !== 0 && Number.isInteger(bits) && bits >= 0 && bits <= (family === 4 ? 32 : 128)) {
          this.nets.addSubnet(addr, bits, family === 4 ? 'ipv4' : 'ipv6');
          this.hasNets = true;
        }
        continue; // a malformed network is ignored, as a malformed name would match nothing
      }
      let port = 0;
      const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
      if (m !== null) {
        entry = m[1]!;
        port = Number(m[2]);
      }
      if (entry.startsWith('[') && entry.endsWith(']')) entry = entry.slice(1, -1);
      if (isIP(entry) !== 0) {
        this.ips.push({ ip: entry, port });
        continue;
      }
      let subOnly = false;
      if (entry.startsWith('*.')) entry = entry.slice(1);
      if (entry.startsWith('.')) {
        subOnly = true;
        entry = entry.slice(1);
      }
      if (entry.endsWith('.')) entry = entry.slice(0, -1);
      if (entry !== '') this.names.push({ name: entry, subOnly, port });
    }
    this.all = all;
  }

  /** The host (IPv6 without brackets) and port go direct. */
  matches(hostname: string, port: number): boolean {
    if (this.all) return true;
    let host = hostname.toLowerCase();
    if (host.endsWith('.')) host = host.slice(0, -1);
    const family = isIP(host);
    if (family !== 0) {
      for (const e of this.ips) if ((e.port === 0 || e.port === port) && sameIP(e.ip, host)) return true;
      return this.hasNets && this.nets.check(host, family === 4 ? 'ipv4' : 'ipv6');
    }
    for (const e of this.names) {
      if (e.port !== 0 && e.port !== port) continue;
      if (host.endsWith(`.${e.name}`)) return true;
      if (!e.subOnly && host === e.name) return true;
    }
    return false;
  }
}

function sameIP(a: string, b: string): boolean {
  if (a === b) return true;
  // Spellings of one IPv6 address differ (::1 and 0:0:0:0:0:0:0:1).
  if (isIP(a) !== 6 || isIP(b) !== 6) return false;
  const list = new BlockList();
  list.addAddress(a, 'ipv6');
  return list.check(b, 'ipv6');
}
