// undici's global dispatcher, for every undici in the process at once: undici 6 and 7
// (Node 20, 22, 24, and the undici package 7) read `Symbol.for('undici.globalDispatcher.1')`,
// undici 8 (Node 26) reads `...2`. Node's fetch and WebSocket use whatever is there.

const V1 = Symbol.for('undici.globalDispatcher.1');
const V2 = Symbol.for('undici.globalDispatcher.2');

interface DispatcherLike {
  dispatch(options: never, handler: never): unknown;
}

type Slots = Record<symbol, unknown>;

/** Node's own dispatchers, kept while another is installed, to be put back by `setGlobalDispatcher(null)`. */
let saved: { v1: unknown; v2: unknown } | null = null;

/**
 * Installs `dispatcher` for Node's fetch and WebSocket and for the undici package's
 * global calls. `null` puts back what was there before the first install (Node's own).
 */
export function setGlobalDispatcher(dispatcher: DispatcherLike | null): void {
  if (dispatcher !== null && (typeof dispatcher !== 'object' || typeof dispatcher.dispatch !== 'function')) {
    throw new TypeError('setGlobalDispatcher() takes a dispatcher (an object with dispatch()) or null');
  }
  loadNodeUndici();
  const g = globalThis as unknown as Slots;
  if (dispatcher === null) {
    if (saved === null) return;
    put(V1, saved.v1);
    put(V2, saved.v2);
    saved = null;
    return;
  }
  saved ??= { v1: g[V1], v2: g[V2] };
  put(V1, dispatcher);
  // undici 8 installs its own only where it runs; elsewhere ...2 is left alone unless it exists.
  if (V2 in g || isUndici8()) put(V2, dispatcher);
}

/** The dispatcher Node's fetch uses now. */
export function getGlobalDispatcher(): unknown {
  loadNodeUndici();
  const g = globalThis as unknown as Slots;
  return g[V2] ?? g[V1];
}

function put(key: symbol, value: unknown): void {
  const g = globalThis as unknown as Slots;
  if (Object.prototype.hasOwnProperty.call(g, key)) g[key] = value;
  // As undici defines it: writable, so that undici's own setGlobalDispatcher can replace it later.
  else Object.defineProperty(g, key, { value, writable: true, enumerable: false, configurable: false });
}

/**
 * Node loads its undici on first use, and then installs its default dispatcher unless
 * one is there: touching `Headers` loads it now, so that Node's own is what is saved.
 */
function loadNodeUndici(): void {
  void (globalThis as { Headers?: unknown }).Headers;
}

function isUndici8(): boolean {
  const v = process.versions.undici;
  return v !== undefined && Number(v.split('.')[0]) >= 8;
}
