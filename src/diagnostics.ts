// diagnostics_channel events of both backends. Publishing is guarded by
// `hasSubscribers`, so with nobody listening an event costs one property read and
// builds no message object.
//
//   http-client-pool:connect          { origin, socketId, localAddress, localPort, remoteAddress, remotePort, secure }
//   http-client-pool:connect-error    { origin, socketId, error }
//   http-client-pool:request-start    { request, socketId }          the request is handed to its socket
//   http-client-pool:response-headers { request, socketId, statusCode, rawHeaders }
//   http-client-pool:request-end      { request, statusCode, bodyLength }
//   http-client-pool:request-error    { request, error }
//   http-client-pool:request-retry    { request, socketId, statusCode, attempt, delayMs }   a response
//                                     to be retried (retry option): the request waits delayMs
//
// `request` is { id, origin, method, path }; `id` is unique within the process and the
// same in every event of one request.
import { channel } from 'node:diagnostics_channel';
import type * as net from 'node:net';

export const connectChannel = channel('http-client-pool:connect');
export const connectErrorChannel = channel('http-client-pool:connect-error');
export const requestStartChannel = channel('http-client-pool:request-start');
export const responseHeadersChannel = channel('http-client-pool:response-headers');
export const requestEndChannel = channel('http-client-pool:request-end');
export const requestErrorChannel = channel('http-client-pool:request-error');
export const requestRetryChannel = channel('http-client-pool:request-retry');

export interface RequestInfo {
  readonly id: number;
  readonly origin: string;
  readonly method: string;
  readonly path: string;
}

let lastId = 0;
/** A process-unique request id. */
export function nextRequestId(): number {
  return ++lastId;
}

export function publishConnect(origin: string, socketId: number, socket: net.Socket | null, secure: boolean): void {
  connectChannel.publish({
    origin,
    socketId,
    localAddress: socket?.localAddress ?? null,
    localPort: socket?.localPort ?? null,
    remoteAddress: socket?.remoteAddress ?? null,
    remotePort: socket?.remotePort ?? null,
    secure,
  });
}
