// Request heads written straight to a plain socket's libuv handle. `socket.write()`
// goes through the Writable machinery: a write request object, its callback state and
// a tick, about 180 B of heap and a microsecond per write. The handle's own
// `writeBuffer()` with a request object kept for the next write costs nothing when the
// kernel takes the bytes at once, as it nearly always does for a head.
//
// These are Node internals (`process.binding('stream_wrap')`, the handle's
// `writeBuffer` and `writeQueueSize`), alike on Node 20-26 and checked there by CI.
// Where they are missing, refused (the permission model) or would warn
// (--pending-deprecation), every write goes through the socket as before.
import type * as net from 'node:net';
import { getSystemErrorName } from 'node:util';

/** What the C++ side of a write sees of its request object: `oncomplete` is all it calls. */
interface WriteReq {
  oncomplete: ((this: WriteReq, status: number) => void) | null;
  /** Ours: who waits, on which socket, and the bytes libuv still reads from. */
  writer: HandleWriter | null;
  epoch: number;
  buffer: Buffer | null;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kBytesWritten: number;
  kLastWriteWasAsync: number;
}

interface Handle {
  writeBuffer(req: WriteReq, data: Buffer): number;
  writeQueueSize?: number;
}

const binding = loadBinding();

/** process.binding() warns under --pending-deprecation, which may come in any of these. */
function pendingDeprecation(): boolean {
  const env = process.env;
  return process.execArgv.includes('--pending-deprecation') || env.NODE_PENDING_DEPRECATION === '1' || (env.NODE_OPTIONS ?? '').includes('--pending-deprecation');
}

function loadBinding(): StreamWrapBinding | null {
  if (pendingDeprecation()) return null;
  try {
    const b = (process as unknown as { binding(name: string): Partial<StreamWrapBinding> }).binding('stream_wrap');
    if (typeof b.WriteWrap !== 'function' || b.streamBaseState === undefined || typeof b.kLastWriteWasAsync !== 'number' || typeof b.kBytesWritten !== 'number') return null;
    return b as StreamWrapBinding;
  } catch {
    return null;
  }
}

/** Written straight away: the kernel took every byte. */
export const WRITTEN = 1;
/** Handed to libuv, which finishes later: the writer's `done` is called then. */
export const PENDING = 0;
/** Not taken: write through the socket instead. */
export const DECLINED = -1;

/**
 * The socket's `bytesWritten` counts these writes too: it reads the handle's own count.
 */
export class HandleWriter {
  /** Told of each write that went PENDING, when it finished. */
  private readonly done: (err: Error | null) => void;
  private spare: WriteReq | null = null;
  /** Bumped with each socket, so a write of an old one that finishes late is ignored. */
  private epoch = 0;

  constructor(done: (err: Error | null) => void) {
    this.done = done;
  }

  /** The only writer of this kind when Node has what it needs; else null. */
  static create(done: (err: Error | null) => void): HandleWriter | null {
    return binding === null ? null : new HandleWriter(done);
  }

  /** A new socket: writes of the old one that finish late are forgotten. */
  reset(): void {
    this.epoch++;
  }

  /**
   * Writes `data` on `socket`'s handle when nothing waits before it (in the Writable or
   * in libuv), so that the bytes keep their order; else DECLINED.
   */
  write(socket: net.Socket, data: Buffer): number {
    const handle = (socket as unknown as { _handle?: Handle | null })._handle;
    if (
      handle == null ||
      typeof handle.writeBuffer !== 'function' ||
      handle.writeQueueSize !== 0 ||
      socket.connecting ||
      !socket.writable ||
      socket.writableLength !== 0 ||
      socket.writableCorked !== 0
    ) {
      return DECLINED;
    }
    const b = binding!;
    const req = this.spare ?? this.newReq();
    const err = handle.writeBuffer(req, data);
    const state = b.streamBaseState;
    if (err !== 0) {
      // Nothing left: the socket's own write meets the same error and reports it. Bytes
      // that did leave cannot be taken back: the socket is unusable.
      if (state[b.kBytesWritten] === 0) return DECLINED;
      socket.destroy(systemError(err));
      return PENDING;
    }
    if (state[b.kLastWriteWasAsync] === 0) {
      this.spare = req; // untouched by C++: no write request was made of it
      return WRITTEN;
    }
    // libuv holds the request object and reads `data` until it calls back.
    this.spare = null;
    req.epoch = this.epoch;
    req.buffer = data;
    return PENDING;
  }

  private newReq(): WriteReq {
    const req = new binding!.WriteWrap();
    req.oncomplete = writeFinished;
    req.writer = this;
    req.epoch = 0;
    req.buffer = null;
    return req;
  }

  /** A PENDING write finished. */
  finished(req: WriteReq, status: number): void {
    req.buffer = null;
    if (req.epoch === this.epoch) this.done(status < 0 ? systemError(status) : null);
  }
}

function writeFinished(this: WriteReq, status: number): void {
  this.writer!.finished(this, status);
}

/** An error like Node's own for a failed write (code, errno, syscall). */
function systemError(errno: number): Error {
  const code = getSystemErrorName(errno);
  return Object.assign(new Error(`write ${code}`), { errno, code, syscall: 'write' });
}
