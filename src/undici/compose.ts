// undici's compose(): interceptors of the form `dispatch => (options, handler) => boolean`
// wrapped around the dispatcher's own dispatch(). The result is the dispatcher itself
// for every other member (close, destroy, stats, ...), as undici's is.
import { isLegacy, LegacyAsNew } from './handler.js';
import type { DispatchFn, DispatchOptions, Interceptor, UndiciHandler } from './types.js';

interface Composable {
  dispatch(options: DispatchOptions, handler: UndiciHandler): boolean;
}

export function compose<T extends Composable>(target: T, args: unknown[]): T {
  // Either compose(a, b, c) or compose([a, b, c]), as undici takes them.
  const list = (args.length === 1 && Array.isArray(args[0]) ? args[0] : args) as unknown[];
  let dispatch: DispatchFn = target.dispatch.bind(target);
  for (const interceptor of list) {
    if (interceptor === null || interceptor === undefined) continue;
    if (typeof interceptor !== 'function') throw new TypeError(`invalid interceptor: expected a function, got ${typeof interceptor}`);
    const next = (interceptor as Interceptor)(dispatch);
    if (typeof next !== 'function' || next.length !== 2) throw new TypeError('invalid interceptor: it must return a function (options, handler)');
    // Interceptors speak undici's new handler style: a legacy handler (fetch of undici 6, 7) is seen as one.
    dispatch = (options, handler) => next(options, isLegacy(handler) ? new LegacyAsNew(handler) : handler);
  }
  const composed = dispatch;
  return new Proxy(target, {
    get: (t, key) => (key === 'dispatch' ? composed : (Reflect.get(t, key) as unknown)),
  });
}
