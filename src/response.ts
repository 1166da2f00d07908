// The response handed to callers. Headers stay the flat array the parser gave;
// the lower-cased object is built only when someone reads `headers`.

export type HeaderObject = Record<string, string | string[]>;

const EMPTY: readonly string[] = Object.freeze([]);

export class Response {
  readonly statusCode: number;
  readonly statusMessage: string;
  /** `[name, value, name, value, ...]` exactly as received. */
  readonly rawHeaders: string[];
  /** Trailer fields of a chunked body in the same flat form; empty when none were sent. */
  readonly rawTrailers: readonly string[];
  /** The whole body. */
  readonly body: Buffer;
  /** `'1.1'` or `'1.0'`. */
  readonly httpVersion: string;
  private headerObject: HeaderObject | null = null;
  private trailerObject: HeaderObject | null = null;

  constructor(
    statusCode: number,
    statusMessage: string,
    httpVersion: string,
    rawHeaders: string[],
    rawTrailers: readonly string[] | null,
    body: Buffer,
  ) {
    this.statusCode = statusCode;
    this.statusMessage = statusMessage;
    this.httpVersion = httpVersion;
    this.rawHeaders = rawHeaders;
    this.rawTrailers = rawTrailers ?? EMPTY;
    this.body = body;
  }

  /** Lower-case names; a name received more than once maps to an array of its values in order. */
  get headers(): HeaderObject {
    return (this.headerObject ??= toObject(this.rawHeaders));
  }

  /** Trailers as an object like `headers`; `{}` when the server sent none. */
  get trailers(): HeaderObject {
    return (this.trailerObject ??= toObject(this.rawTrailers));
  }

  text(): string {
    return this.body.toString('utf8');
  }

  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}

/**
 * Completes a response made at its head, once its body is whole (the raw parser creates
 * it when the head arrives). Not on the class, so that callers never see it.
 */
export function completeResponse(res: Response, body: Buffer, rawTrailers: readonly string[] | null): void {
  const writable = res as { body: Buffer; rawTrailers: readonly string[] };
  writable.body = body;
  if (rawTrailers !== null) writable.rawTrailers = rawTrailers;
}

/** Lower-case names; a name received more than once maps to an array of its values in order. */
export function toObject(raw: readonly string[]): HeaderObject {
  const out: HeaderObject = Object.create(null) as HeaderObject;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (typeof prev === 'string') out[name] = [prev, value];
    else prev.push(value);
  }
  return out;
}
