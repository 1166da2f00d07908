/// <reference types="node" preserve="true" />
// Public surface of http-client-pool. The reference above is kept in index.d.ts (preserve) so a
// consumer whose tsconfig has `"types": []` (what `tsc --init` writes) still loads @types/node.
import './node-version.js'; // first: an unsupported Node fails before anything reaches the parser
export { Pool } from './pool/pool.js';
export { NodePool } from './node/pool.js';
export type { Client } from './pool/client.js';
export type { DispatchHandler, DispatchController } from './pool/request.js';
export { setGlobalDispatcher, getGlobalDispatcher } from './undici/global.js';
export type { DispatchOptions, UndiciHandler, UndiciController, Interceptor, DispatchFn } from './undici/types.js';
export { StreamResponse, BodyStream } from './pool/stream.js';
export { Response } from './response.js';
export type { PoolStats, OriginStats, SocketStats, SocketState } from './pool/stats.js';
export {
  HttpClientPoolError,
  InvalidArgumentError,
  ConnectError,
  ProxyError,
  ConnectTimeoutError,
  TLSError,
  TLSTimeoutError,
  HeadersTimeoutError,
  BodyTimeoutError,
  WriteTimeoutError,
  HandlerError,
  RequestTimeoutError,
  AbortError,
  SocketError,
  ParseError,
  UpgradeError,
  ResponseTooLargeError,
  RequestBodyError,
  PoolClosedError,
  PoolDestroyedError,
  ParserUnavailableError,
  type Phase,
  type ErrorContext,
} from './errors.js';
export {
  defaults,
  type PoolOptions,
  type RequestOptions,
  type RequestInit,
  type Body,
  type StreamBody,
  type Headers,
  type HeaderValue,
  type TLSOptions,
} from './options.js';
