// NodePool: the same Client as Pool, on node:http / node:https. `size` agents per
// origin, each with keep-alive and `maxConnsPerHost` sockets, chosen round-robin.
// The reference backend: users can fall back to it, and the tests use it as the
// oracle for the raw parser path.
import { Dispatcher } from '../undici/dispatcher.js';
import type { PoolOptions } from '../options.js';
import { nodeBackend } from './slot.js';

export class NodePool extends Dispatcher {
  constructor(options?: PoolOptions) {
    // node:http hands out a fresh Buffer per chunk: nothing to copy.
    super(options, nodeBackend, 'NodePool', false);
    this.start();
  }
}
