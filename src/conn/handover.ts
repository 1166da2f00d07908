// A socket that left the pool because its connection switched protocols (an upgrade,
// a CONNECT tunnel), as the stream its new owner reads and writes. A plain socket of a
// slot reads through its `onread` callback into the slot's buffer and never emits
// 'data'; from the hand-over on, its reads come here (copied out of this stream's own
// buffer) and are pushed with backpressure. Writes go to the socket as they are.
import type * as net from 'node:net';
import { Duplex } from 'node:stream';

const BUFFER_SIZE = 64 * 1024;

export class Handover extends Duplex {
  /** Where the socket's reads land from now on (`onread`'s buffer). */
  readonly buffer = Buffer.allocUnsafe(BUFFER_SIZE);

  constructor(
    private readonly socket: net.Socket,
    head: Buffer | null,
  ) {
    super({ allowHalfOpen: true });
    if (head !== null && head.length !== 0) this.push(head);
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => {
      if (!this.readableEnded) this.push(null);
      if (!this.writableFinished) this.destroy();
    });
    socket.ref();
  }

  /** A read of the socket (its `onread` callback now routes here); true: go on reading. */
  bytesIn(n: number, buf: Buffer): boolean {
    if (!this.push(Buffer.from(buf.subarray(0, n)))) this.socket.pause();
    return true;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.socket.write(chunk, encoding, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.socket.end(() => callback());
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.socket.destroy();
    callback(err);
  }

  // What code given a socket commonly asks of it.
  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, delay?: number): this {
    this.socket.setKeepAlive(enable, delay);
    return this;
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.socket.setTimeout(ms, callback);
    return this;
  }

  ref(): this {
    this.socket.ref();
    return this;
  }

  unref(): this {
    this.socket.unref();
    return this;
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }

  get localPort(): number | undefined {
    return this.socket.localPort;
  }
}
