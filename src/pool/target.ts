// Origins and request targets: turning `baseURL` and call paths into where to
// connect and what to put on the request line.
import { InvalidArgumentError } from '../errors.js';

export interface Target {
  /** `scheme://host:port`, the key of an origin's sockets. */
  readonly origin: string;
  readonly secure: boolean;
  /** Host to connect to (IPv6 without brackets). */
  readonly hostname: string;
  readonly port: number;
  /** Value of the Host header (port omitted when it is the scheme's default). */
  readonly hostHeader: string;
  /** Base path without a trailing slash; `''` for none. */
  readonly basePath: string;
}

const ABSOLUTE = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

export function isAbsoluteURL(s: string): boolean {
  return s.charCodeAt(0) !== 47 /* / */ && ABSOLUTE.test(s);
}

/** Parses `baseURL` or an absolute call URL. `base`: a query or fragment is refused rather than dropped. */
export function parseURL(input: string, base: boolean): { target: Target; path: string } {
  // The URL parser silently drops tabs and newlines; a request must not quietly become another.
  if (/[\x00-\x20\x7f]/.test(input)) throw new InvalidArgumentError(`invalid URL ${JSON.stringify(input)}: controls and spaces must be percent-encoded`);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new InvalidArgumentError(`invalid URL: ${JSON.stringify(input)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`unsupported URL scheme ${JSON.stringify(url.protocol)}: only http: and https: are supported`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidArgumentError('credentials in the URL are not supported: send an authorization header instead');
  }
  if (base && (url.search !== '' || url.hash !== '' || input.includes('?') || input.includes('#'))) {
    throw new InvalidArgumentError(`baseURL must not have a query or fragment: ${JSON.stringify(input)}`);
  }
  const secure = url.protocol === 'https:';
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const pathname = url.pathname;
  const target: Target = {
    origin: `${url.protocol}//${url.host}`,
    secure,
    hostname,
    port,
    hostHeader: url.host,
    basePath: base ? pathname.replace(/\/+$/, '') : '',
  };
  return { target, path: pathname + url.search };
}

/** Joins a base path and a call path: `('/v1', 'users')` and `('/v1', '/users')` give `/v1/users`. */
export function joinPath(basePath: string, path: string): string {
  if (path.charCodeAt(0) === 47 /* / */) return basePath === '' ? path : basePath + path;
  if (path.charCodeAt(0) === 63 /* ? */) return (basePath === '' ? '/' : basePath) + path;
  return basePath + '/' + path;
}
