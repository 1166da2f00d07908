// The raw-socket pool: N sockets per origin, written to and parsed by this library.
import type { Backend } from './origin.js';
import { Dispatcher } from '../undici/dispatcher.js';
import { InvalidArgumentError } from '../errors.js';
import type { PoolOptions } from '../options.js';
import { httpParser } from '../parser/binding.js';
import { RawSlot } from '../conn/driver.js';

export type { Client } from './client.js';

/** Pool's slots: one raw socket each, driven by the slot's protocol machine. */
const rawBackend: Backend = {
  followsAddresses: true,
  dialsEagerly: true,
  recyclesRequests: true,
  createSlot: (id, ctx) => new RawSlot(id, ctx.endpoint, ctx.sessions, ctx.addresses?.lookupFor(id), ctx.config, ctx.reports, ctx.recycler),
  prepare: () => {}, // the encoded head and body are what a raw slot writes
};

export class Pool extends Dispatcher {
  constructor(options?: PoolOptions) {
    // The raw backend cannot run without Node's parser: say so here, before any socket.
    httpParser();
    // Its body chunks are views into each socket's reused read buffer.
    super(options, rawBackend, 'Pool', true);
    if (this.config.maxConnsPerHost !== 1) {
      throw new InvalidArgumentError('Pool has exactly one socket per slot: maxConnsPerHost must be 1 (raise size instead)');
    }
    this.start();
  }
}
