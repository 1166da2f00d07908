// What pipelining a run actually did, counted from the pool's diagnostics events:
// `--pipelining N` only allows up to N requests on a socket; whether any request goes
// out behind another depends on load (concurrency vs sockets) and on the server.
// A request is pipelined when it is written to a socket while an earlier request on
// that socket has not settled. Subscribed only for runs that allow pipelining.
import { connectChannel, requestEndChannel, requestErrorChannel, requestStartChannel, type RequestInfo } from '../diagnostics.js';

export class PipelineWatch {
  /** Requests written behind an unsettled one on the same socket. */
  pipelined = 0;
  /** Most requests in flight on one socket at once. */
  maxDepth = 0;

  /** Connects seen per slot ("origin id"): a new socket starts with an empty pipeline. */
  private readonly generation = new Map<string, number>();
  /** The socket ("origin id generation") each request was last written to, by request id. */
  private readonly on = new Map<number, string>();
  /** Unsettled requests per socket. */
  private readonly depth = new Map<string, number>();

  private readonly onConnect = (msg: unknown): void => {
    const { origin, socketId } = msg as { origin: string; socketId: number };
    const slot = `${origin} ${socketId}`;
    this.generation.set(slot, (this.generation.get(slot) ?? 0) + 1);
  };

  private readonly onStart = (msg: unknown): void => {
    const { request, socketId } = msg as { request: RequestInfo; socketId: number };
    // A request resent after its socket failed: done with the old socket (whose count can go).
    this.leave(request.id);
    const slot = `${request.origin} ${socketId}`;
    const key = `${slot} ${this.generation.get(slot) ?? 0}`;
    const d = (this.depth.get(key) ?? 0) + 1;
    this.depth.set(key, d);
    this.on.set(request.id, key);
    if (d > 1) this.pipelined++;
    if (d > this.maxDepth) this.maxDepth = d;
  };

  private readonly onSettled = (msg: unknown): void => {
    this.leave((msg as { request: RequestInfo }).request.id);
  };

  start(): void {
    connectChannel.subscribe(this.onConnect);
    requestStartChannel.subscribe(this.onStart);
    requestEndChannel.subscribe(this.onSettled);
    requestErrorChannel.subscribe(this.onSettled);
  }

  stop(): void {
    connectChannel.unsubscribe(this.onConnect);
    requestStartChannel.unsubscribe(this.onStart);
    requestEndChannel.unsubscribe(this.onSettled);
    requestErrorChannel.unsubscribe(this.onSettled);
  }

  private leave(id: number): void {
    const key = this.on.get(id);
    if (key === undefined) return;
    this.on.delete(id);
    const d = this.depth.get(key)! - 1;
    if (d === 0) this.depth.delete(key);
    else this.depth.set(key, d);
  }
}
