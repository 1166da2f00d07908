// The raw-socket pool: N sockets per origin written to and parsed by this library.
import { InvalidArgumentError } from '../errors.js';
import { httpParser } from '../parser/binding.js';
import type { PoolOptions } from '../options.js';
import { ClientBase, type Origin } from './client.js';
import { OriginPool } from './origin.js';
import type { Target } from './target.js';

export type { Client } from './client.js';

export class Pool extends ClientBase {
  constructor(options?: PoolOptions) {
    // The raw backend cannot run without Node's parser: say so here, before any socket.
    httpParser();
    super(options);
    if (this.config.maxConnsPerHost !== 1) {
      throw new InvalidArgumentError('Pool has exactly one socket per slot: maxConnsPerHost must be 1 (raise size instead)');
    }
    this.start();
  }

  protected createOrigin(target: Target): Origin {
    return new OriginPool(target, this.config);
  }
}
