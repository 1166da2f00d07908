// One raw slot as its origin sees it, and the driver of its state machine: the socket,
// its reads into the slot's own buffer, the corked writes and the slot's timer on the
// shared clock. It turns socket events into events of the machine (machine.ts) and
// does what the machine asks. No protocol decision is made here.
import type * as net from 'node:net';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { Handover } from './handover.js';
import { connectTCP, plainSocket, startTLS, type Endpoint, type SessionCache } from './dial.js';
import { ProxyDial, type TunnelSink } from './proxy.js';
import { arm, disarm, type Timed } from './timers.js';
import type { Slot } from '../pool/slot.js';
import type { Recycler, Request } from '../pool/request.js';
import type { SocketStats } from '../pool/stats.js';
import type { HttpClientPoolError } from '../errors.js';
import type { Config } from '../options.js';
import type { DestroyReason, SlotReports } from '../pool/slot.js';
import { connectChannel, publishConnect } from '../diagnostics.js';
import { Upload, type UploadSink } from './upload.js';
import { DECLINED, HandleWriter, WRITTEN } from './handle-write.js';
import { SlotMachine, State, type SlotIo } from './machine.js';

export { State };

/** Size of a plain socket's read buffer: what one read takes at most. */
const READ_BUFFER_SIZE = 64 * 1024;
/** A body missing at least this much is read straight into its buffer. */
const DIRECT_READ_MIN = 16 * 1024;
const EMPTY = Buffer.alloc(0);
/**
 * Bodies larger than this are written in slices of it. Node reports a write's progress
 * only when the whole write is done, and the write timer needs to see bytes leave.
 */
export const WRITE_SLICE = 1024 * 1024;
const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

export class RawSlot implements Slot, SlotIo, Timed, UploadSink, TunnelSink {
  readonly id: number;
  readonly machine: SlotMachine;
  deadline = 0;
  clockIndex = -1;

  private socket: net.Socket | null = null;
  private corked = false;
  /** The pending turn of `afterPoll`. */
  private poll: NodeJS.Immediate | null = null;
  /** Plain sockets read into this one buffer (see `readInto`); null until the first read, and for TLS. */
  private readBuffer: Buffer | null = null;
  /** The current plain socket's reads (its `onread` option); null for TLS, which reads through its own layer. */
  private reads: PlainReads | null = null;
  /** Picks this slot's address among the host's (multi-address dialing); undefined: Node's own lookup. */
  private readonly lookup: LookupFunction | undefined;
  private readonly pipelined: boolean;
  /** The streamed body being written on the socket; null when none. */
  private pumping: Upload | null = null;
  /** It is framed `transfer-encoding: chunked`. */
  private uploadChunked = false;
  /** Writes heads straight to a plain socket's handle, where Node allows it (see handle-write.ts). */
  private readonly handleWriter: HandleWriter | null;
  /** The way through the proxy being opened (proxy.ts); null when none is. */
  private proxyDial: ProxyDial | null = null;

  constructor(
    id: number,
    private readonly endpoint: Endpoint,
    private readonly sessions: SessionCache,
    lookup: LookupFunction | undefined,
    config: Config,
    owner: SlotReports,
    private readonly recycler: Recycler | null,
  ) {
    this.id = id;
    this.lookup = lookup;
    this.pipelined = config.pipelining > 1;
    this.machine = new SlotMachine(id, endpoint.origin, config, endpoint.tls !== null, this, owner);
    this.onConnect = this.onConnect.bind(this);
    this.onSecureConnect = this.onSecureConnect.bind(this);
    this.onData = this.onData.bind(this);
    this.onEnd = this.onEnd.bind(this);
    this.onError = this.onError.bind(this);
    this.onClose = this.onClose.bind(this);
    this.onWritten = this.onWritten.bind(this);
    this.onDrain = this.onDrain.bind(this);
    this.onUploadWritten = this.onUploadWritten.bind(this);
    this.onUploadFlushed = this.onUploadFlushed.bind(this);
    this.flush = this.flush.bind(this);
    this.handleWriter = plainSocket(endpoint) ? HandleWriter.create(this.onHandleWritten.bind(this)) : null;
  }

  // ---- the slot, as the origin sees it

  get state(): State {
    return this.machine.kind;
  }

  get connected(): boolean {
    const k = this.machine.kind;
    return k === State.Idle || k === State.Busy;
  }

  get vacant(): boolean {
    return this.socket === null && this.machine.inflight.length === 0;
  }

  canTake(req: Request): boolean {
    return this.machine.canTake(req);
  }

  take(req: Request): void {
    this.machine.take(req);
  }

  connect(): void {
    this.machine.connect();
  }

  recycle(): void {
    this.machine.recycle();
  }

  hold(): void {
    this.machine.hold();
  }

  destroy(reason: DestroyReason | null): void {
    this.machine.destroy(reason);
  }

  stats(now: number): SocketStats {
    const s = this.socket;
    const m = this.machine;
    const connectedAt = m.connectedAt;
    return {
      id: this.id,
      state: m.stateName,
      localAddress: s?.localAddress ?? null,
      localPort: s?.localPort ?? null,
      remoteAddress: s?.remoteAddress ?? null,
      remotePort: s?.remotePort ?? null,
      requests: m.requests,
      inFlight: m.inflight.length,
      bytesIn: m.bytesInClosed + (s?.bytesRead ?? 0),
      bytesOut: m.bytesOutClosed + (s?.bytesWritten ?? 0),
      reconnects: Math.max(0, m.connects - 1),
      failedDials: m.failedDials,
      errors: m.errors,
      ageMs: connectedAt === 0 ? 0 : now - connectedAt,
      retries: 0, // counted by the origin
    };
  }

  /** The live socket (for the connect event's addresses); never to be written to or listened on from outside. */
  get liveSocket(): net.Socket | null {
    return this.socket;
  }

  // ---- SlotIo

  dial(): void {
    // One onread per socket (not per request): a socket handed over keeps reading
    // through its own, away from the slot's buffer (see detach).
    this.reads = plainSocket(this.endpoint) ? new PlainReads(this) : null;
    const route = this.endpoint.proxy;
    if (route === null) return this.listen(connectTCP(this.endpoint, this.lookup, this.reads?.opts));
    // Through a proxy the dial phase lasts until the tunnel is open: the machine hears
    // `connected()` then, and nothing of the proxy's bytes.
    const d = new ProxyDial(route, this, this.reads?.opts);
    this.proxyDial = d;
    this.socket = d.tcp;
  }

  // ---- TunnelSink: the proxy dial's outcome

  tunnelled(socket: net.Socket): void {
    this.proxyDial = null;
    this.listen(socket);
    this.machine.connected();
  }

  tunnelFailed(err: HttpClientPoolError): void {
    this.proxyDial = null;
    this.machine.errored(err);
    this.machine.closed();
  }

  startTLS(): void {
    const tcp = this.socket!;
    this.sessions.acquire(() => {
      if (this.socket !== tcp) return; // given up on while waiting for the first ticket
      this.unlisten(tcp);
      tcp.on('error', ignoreLateError);
      this.listen(startTLS(tcp, this.endpoint, this.sessions));
    });
  }

  write(head: Buffer, body: Buffer | null): boolean {
    const socket = this.socket!;
    if (this.pipelined && !this.corked) {
      // Pipelined requests made in the same turn (callers answering the responses just
      // settled) leave together in one writev, after the current microtasks.
      this.corked = true;
      socket.cork();
      queueMicrotask(this.flush);
    }
    if (body === null) {
      const w = this.handleWriter;
      if (w !== null) {
        const r = w.write(socket, head);
        if (r !== DECLINED) return r === WRITTEN;
      }
      socket.write(head);
      // The common case: the kernel took the head at once, and no callback needs to wait
      // for a later tick. Otherwise an empty write behind it reports when it has left.
      if (socket.writableLength === 0 && !socket.destroyed) return true;
      socket.write(EMPTY, this.onWritten);
      return false;
    }
    // Head and a large body leave in one writev, the body in slices (views, no copy), so
    // that the kernel taking each one shows as progress to the write timer.
    socket.cork();
    socket.write(head);
    let at = 0;
    for (; at + WRITE_SLICE < body.length; at += WRITE_SLICE) socket.write(body.subarray(at, at + WRITE_SLICE));
    socket.write(at === 0 ? body : body.subarray(at), this.onWritten);
    socket.uncork();
    return false;
  }

  upload(req: Request): void {
    this.socket!.write(req.head);
    const streamed = req.streamed!;
    this.uploadChunked = streamed.length < 0;
    const up = new Upload(streamed.source, streamed.length, this);
    this.pumping = up;
    if (!streamed.expectContinue) up.start();
  }

  uploadGo(): void {
    this.pumping?.start();
  }

  // ---- UploadSink: the streamed body, on this socket

  uploadWrite(chunk: Buffer): boolean {
    const s = this.socket!;
    if (!this.uploadChunked) return s.write(chunk, this.onUploadWritten);
    s.cork();
    s.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    s.write(chunk);
    const ok = s.write(CRLF, this.onUploadWritten);
    s.uncork();
    return ok;
  }

  uploadEnd(): void {
    this.socket!.write(this.uploadChunked ? LAST_CHUNK : EMPTY, this.onUploadFlushed);
  }

  uploadFailed(err: HttpClientPoolError): void {
    this.pumping = null;
    this.machine.uploadFailed(err);
  }

  /** A write of the upload failed: it stops, and the machine hears of it as of a failed request write. */
  private onUploadWritten(err?: Error | null): void {
    const up = this.pumping;
    if (err == null || up === null) return;
    this.pumping = null;
    up.stop();
    this.machine.written(err);
  }

  /** The upload's last bytes left (or failed): the request is written. */
  private onUploadFlushed(err?: Error | null): void {
    if (this.pumping === null) return;
    this.pumping = null;
    this.machine.written(err ?? null);
  }

  private onDrain(): void {
    this.pumping?.drained();
  }

  arm(ms: number): void {
    arm(this, ms);
  }

  disarm(): void {
    disarm(this);
  }

  close(): void {
    const s = this.socket;
    if (s === null) return;
    this.socket = null;
    const d = this.proxyDial;
    if (d !== null) {
      this.proxyDial = null;
      d.cancel();
    }
    const up = this.pumping;
    if (up !== null) {
      // Answered early, failed or given up on: the rest of the body is not read.
      this.pumping = null;
      up.stop();
    }
    this.machine.socketGone(s);
    this.unlisten(s);
    s.on('error', ignoreLateError);
    s.destroy();
  }

  detach(head: Buffer | null): Duplex {
    const s = this.socket!;
    this.socket = null;
    this.machine.socketGone(s);
    this.unlisten(s);
    const reads = this.reads;
    this.reads = null;
    if (reads === null) {
      // TLS: the socket emits 'data' itself; what was read past the head goes first.
      if (head !== null) s.unshift(head);
      s.ref();
      return s;
    }
    reads.handover = new Handover(s, head);
    return reads.handover;
  }

  now(): number {
    return Date.now();
  }

  readStop(): void {
    this.socket?.pause();
  }

  readStart(): void {
    this.socket?.resume();
  }

  bytesSent(): number {
    return this.socket === null ? 0 : sentOf(this.socket);
  }

  ref(held: boolean): void {
    if (held) this.socket?.ref();
    else this.socket?.unref();
  }

  /**
   * Node reads sockets only in libuv's poll phase, and this may itself run inside a
   * poll-phase callback (a response just read, a caller's timer after a stall): one
   * setImmediate would run in the check phase of the same loop turn, before any new
   * poll. The second, set from the first, runs in the next turn's check phase, so one
   * poll (not blocking: an immediate is pending) has read the socket in between.
   */
  afterPoll(): void {
    this.cancelPoll();
    this.poll = setImmediate(pollOneTurn, this);
  }

  cancelPoll(): void {
    if (this.poll !== null) clearImmediate(this.poll);
    this.poll = null;
  }

  /** The first turn of `afterPoll` has run. */
  pollAgain(): void {
    this.poll = setImmediate(pollDone, this);
  }

  /** The second turn of `afterPoll` has run. */
  polled(): void {
    this.poll = null;
    this.machine.polled();
  }

  writable(): boolean {
    const s = this.socket;
    return s !== null && !s.destroyed && s.writable;
  }

  /**
   * Node destroys a socket whose write failed, and a destroyed socket reads nothing
   * more. Called from the failed write's callback, before Node's errorOrDestroy: with
   * autoDestroy off that emits 'error' instead of destroying, and once 'error' has marked
   * the read side failed, clearing the mark lets the bytes still to come and the EOF in.
   */
  readOn(): boolean {
    const s = this.socket;
    if (s === null || s.destroyed) return false;
    const states = s as unknown as StreamStates;
    states._writableState.autoDestroy = false;
    states._readableState.autoDestroy = false;
    const rs = states._readableState;
    // Every failed write marks the read side failed again (pipelined writes fail one after
    // another, some with no callback of ours), and an EOF read while it is marked never
    // emits 'end': the read side stays sound from here on, whatever writes report.
    rs.errored = null; // through Node's own setter (a flag bit on newer Nodes)
    if (Object.getOwnPropertyDescriptor(rs, 'errored')?.set === undefined) {
      Object.defineProperty(rs, 'errored', { get: () => null, set: () => {}, configurable: true, enumerable: true });
    }
    // An EOF that came while it was marked: its 'end' was held back; a read(0) emits it.
    if (rs.ended && !rs.endEmitted) s.read(0);
    return true;
  }

  usable(): void {
    if (connectChannel.hasSubscribers) publishConnect(this.endpoint.origin, this.id, this.socket, this.endpoint.tls !== null);
  }

  /** The shared clock's callback: the machine's phase timer. */
  expire(): void {
    this.machine.expire();
  }

  // ---- socket events

  private onConnect(): void {
    this.machine.connected();
  }

  private onSecureConnect(): void {
    this.machine.secured();
  }

  /**
   * Where a plain socket reads next (Node asks after every read): the missing rest of a
   * large Content-Length body, so the kernel copies it straight into the response's
   * buffer; otherwise this slot's one read buffer, so no read allocates.
   */
  readInto(): Buffer {
    return this.machine.readTarget(DIRECT_READ_MIN) ?? (this.readBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_SIZE));
  }

  /** A read of a plain socket (the `onread` callback); true: go on reading. */
  onRead(n: number, buf: Buffer): boolean {
    // Called by libuv on an empty stack: requests settled before are free to reuse.
    this.recycler?.newTurn();
    if (buf === this.readBuffer) this.machine.read(buf, n);
    else this.machine.filled(n);
    return true;
  }

  /** Bytes of a TLS socket ('data' events). */
  private onData(chunk: Buffer): void {
    this.machine.read(chunk, chunk.length);
  }

  private onEnd(): void {
    this.machine.ended();
  }

  private onError(err: Error): void {
    this.machine.errored(err);
  }

  private onClose(): void {
    this.machine.closed();
  }

  private onWritten(err?: Error | null): void {
    this.machine.written(err ?? null);
  }

  /**
   * A head written to the handle finished later. A failure reaches the socket as Node's
   * own failed write would: an 'error' when the machine reads on (see readOn), else
   * the socket is destroyed with it.
   */
  private onHandleWritten(err: Error | null): void {
    this.machine.written(err);
    const s = this.socket;
    if (err === null || s === null || s.destroyed) return;
    if ((s as unknown as StreamStates)._writableState.autoDestroy) s.destroy(err);
    else s.emit('error', err);
  }

  private flush(): void {
    this.corked = false;
    this.socket?.uncork();
  }

  private listen(s: net.Socket): void {
    this.socket = s;
    this.handleWriter?.reset();
    s.on('connect', this.onConnect);
    s.on('secureConnect', this.onSecureConnect);
    s.on('data', this.onData);
    s.on('end', this.onEnd);
    s.on('error', this.onError);
    s.on('close', this.onClose);
    s.on('drain', this.onDrain);
  }

  private unlisten(s: net.Socket): void {
    s.removeListener('connect', this.onConnect);
    s.removeListener('secureConnect', this.onSecureConnect);
    s.removeListener('data', this.onData);
    s.removeListener('end', this.onEnd);
    s.removeListener('error', this.onError);
    s.removeListener('close', this.onClose);
    s.removeListener('drain', this.onDrain);
  }
}

/**
 * A figure that moves whenever one of the socket's writes has been taken by the kernel.
 * Node's `bytesWritten` counts a write as soon as it is queued; the handle's write queue
 * size (libuv's, refreshed as each write completes) and `writableLength` shrink only when
 * a whole write is done: hence large bodies are written in slices (WRITE_SLICE).
 */
export function sentOf(s: net.Socket): number {
  const queued = (s as unknown as { _handle?: { writeQueueSize?: number } })._handle?.writeQueueSize;
  return s.bytesWritten - (typeof queued === 'number' ? queued : s.writableLength);
}

/** The fields of Node's stream states that `readOn` sets (present on Node 20-26). */
interface StreamStates {
  _writableState: { autoDestroy: boolean };
  _readableState: { autoDestroy: boolean; errored: Error | null; ended: boolean; endEmitted: boolean };
}

function pollOneTurn(c: RawSlot): void {
  c.pollAgain();
}

function pollDone(c: RawSlot): void {
  c.polled();
}

/** The 'error' listener of a socket given up on (or handed to TLS): its late errors are not news. */
function ignoreLateError(): void {}

/** A plain socket's `onread`: into the slot's buffer, or, once the socket was handed over, into its Handover. */
class PlainReads {
  handover: Handover | null = null;
  readonly opts: net.OnReadOpts;

  constructor(slot: RawSlot) {
    this.opts = {
      buffer: () => this.handover?.buffer ?? slot.readInto(),
      callback: (n: number, buf: Uint8Array) => (this.handover !== null ? this.handover.bytesIn(n, buf as Buffer) : slot.onRead(n, buf as Buffer)),
    };
  }
}
