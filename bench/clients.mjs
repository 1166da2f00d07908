// The clients the benchmarks compare, each as { name, get(path), close() }, all with
// `sockets` connections to one origin. get() settles once the whole response, body
// included, has been read.
// Each client loads only its own library (see measure.mjs: one client per process).
import * as http from 'node:http';
import * as net from 'node:net';

export const CLIENTS = ['Pool', 'NodePool', 'undici.Pool', 'undici.RoundRobinPool', 'node:http', 'raw-limit'];
/** Clients measured with requests chained from the end of the last (no promise per request); `npm run bench:dispatch`. */
export const DISPATCH_CLIENTS = ['Pool', 'Pool.dispatch', 'Pool.dispatch.undici', 'Pool.stream', 'NodePool.dispatch', 'undici.Pool', 'undici.dispatch', 'undici.stream', 'raw-limit'];

export async function makeClient(name, origin, sockets, pipelining = 1) {
  switch (name) {
    case 'Pool': {
      const { Pool } = await import('../dist/index.js');
      const p = new Pool({ baseURL: origin, size: sockets, ...(pipelining > 1 ? { pipelining } : {}) });
      await p.ready();
      return { name, get: (path) => p.get(path), close: () => p.close() };
    }
    case 'Pool.dispatch':
    case 'NodePool.dispatch': {
      // The zero-copy form: views into the read buffer, the flat raw header array.
      const lib = await import('../dist/index.js');
      const p = name === 'Pool.dispatch' ? new lib.Pool({ baseURL: origin, size: sockets, zeroCopy: true }) : new lib.NodePool({ baseURL: origin, size: sockets, zeroCopy: true });
      await p.ready();
      return { name, chain: (path, count, concurrency, hist) => chain((h) => p.dispatch({ method: 'GET', path }, h), count, concurrency, hist), close: () => p.close() };
    }
    case 'Pool.dispatch.undici': {
      // dispatch() by default, as fetch and undici's helpers call it: origin given, a headers object, chunks copied.
      const lib = await import('../dist/index.js');
      const p = new lib.Pool({ size: sockets });
      const chainOn = (path, count, concurrency, hist) => chain((h) => p.dispatch({ method: 'GET', path, origin }, h), count, concurrency, hist);
      return { name, chain: chainOn, close: () => p.close() };
    }
    case 'Pool.stream': {
      // stream(): a promise per request, resolved at the head; the body read as a Readable.
      const { Pool } = await import('../dist/index.js');
      const p = new Pool({ baseURL: origin, size: sockets });
      await p.ready();
      const get = async (path) => {
        const res = await p.stream({ method: 'GET', path });
        let n = 0;
        for await (const chunk of res.body) n += chunk.length;
        return n;
      };
      return { name, get, close: () => p.close() };
    }
    case 'undici.stream': {
      // undici's stream(): the body written into a Writable the factory returns, one per request.
      const undici = await import('undici');
      const { Writable } = await import('node:stream');
      const p = new undici.Pool(origin, { connections: sockets, pipelining });
      const factory = () => {
        let n = 0;
        return new Writable({
          write(chunk, _enc, cb) {
            n += chunk.length;
            cb();
          },
        });
      };
      const get = (path) => p.stream({ path, method: 'GET' }, factory);
      return { name, get, close: () => p.close() };
    }
    case 'undici.dispatch': {
      const undici = await import('undici');
      const p = new undici.Pool(origin, { connections: sockets, pipelining });
      // undici's Pool takes its core handler interface (onConnect/onHeaders/onData/onComplete/onError);
      // the newer names are adapted onto it by its interceptors, which would only add cost here.
      const chainOn = (path, count, concurrency, hist) => chain((h) => p.dispatch({ method: 'GET', path, origin }, (h.undici ??= undiciHandler(h))), count, concurrency, hist);
      return { name, chain: chainOn, close: () => p.close() };
    }
    case 'NodePool': {
      const { NodePool } = await import('../dist/index.js');
      const p = new NodePool({ baseURL: origin, size: sockets });
      return { name, get: (path) => p.get(path), close: () => p.close() };
    }
    case 'fetch.default':
    case 'fetch.Pool':
    case 'fetch.undici.Agent': {
      // Node's own fetch: with its default dispatcher, through a Pool, or through undici 7's Agent.
      let dispatcher;
      if (name === 'fetch.Pool') dispatcher = new (await import('../dist/index.js')).Pool({ size: sockets });
      else if (name === 'fetch.undici.Agent') dispatcher = new (await import('undici')).Agent({ connections: sockets });
      const init = dispatcher === undefined ? undefined : { dispatcher };
      const get = async (path) => (await (await fetch(origin + path, init)).arrayBuffer()).byteLength;
      return { name, get, close: () => dispatcher?.close() };
    }
    case 'undici.Pool':
    case 'undici.RoundRobinPool': {
      const undici = await import('undici');
      const C = name === 'undici.Pool' ? undici.Pool : undici.RoundRobinPool;
      const p = new C(origin, { connections: sockets, pipelining });
      const get = async (path) => {
        const { body } = await p.request({ path, method: 'GET' });
        // Read the whole body as one buffer, as our pools do.
        const buf = Buffer.from(await body.arrayBuffer());
        return buf.length;
      };
      return { name, get, close: () => p.close() };
    }
    case 'node:http': {
      const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
      const url = new URL(origin);
      const get = (path) =>
        new Promise((resolve, reject) => {
          http
            .get({ host: url.hostname, port: url.port, path, agent }, (res) => {
              const chunks = [];
              res.on('data', (c) => chunks.push(c));
              res.on('end', () => resolve(Buffer.concat(chunks).length));
              res.on('error', reject);
            })
            .on('error', reject);
        });
      return { name, get, close: async () => agent.destroy() };
    }
    case 'raw-limit':
      return rawLimit(origin, sockets, pipelining);
    default:
      throw new Error(`unknown client ${name}`);
  }
}

/**
 * `concurrency` chains of requests, each sent from the end of the one before through
 * `send(handler)`, one reused handler object per chain: no promise or closure per
 * request. The body is read and dropped (its length counted), as the buffered clients
 * read theirs. Resolves when `count` requests ended; `hist` gets each latency in µs.
 */
function chain(send, count, concurrency, hist) {
  let started = 0;
  let ended = 0;
  return new Promise((resolve, reject) => {
    class Chain {
      t = 0;
      bytes = 0;
      next() {
        if (started >= count) return;
        started++;
        this.t = performance.now();
        send(this);
      }
      onResponseStart() {}
      onResponseData(_c, chunk) {
        this.bytes += chunk.length;
      }
      onResponseEnd() {
        hist?.record((performance.now() - this.t) * 1000);
        if (++ended === count) resolve();
        else this.next();
      }
      onResponseError(_c, err) {
        reject(err);
      }
    }
    for (let i = 0; i < concurrency; i++) new Chain().next();
  });
}

/** The same chain handler in undici's core handler interface. */
function undiciHandler(h) {
  return {
    onConnect() {},
    onHeaders() {
      return true;
    },
    onData(chunk) {
      h.onResponseData(null, chunk);
      return true;
    },
    onComplete() {
      h.onResponseEnd();
    },
    onError(err) {
      h.onResponseError(null, err);
    },
  };
}

/**
 * The raw-socket limit: `sockets` plain net sockets, each writing a fixed request and
 * counting fixed-length responses without parsing. No HTTP client can beat it.
 */
async function rawLimit(origin, sockets, pipelining) {
  const url = new URL(origin);
  const conns = await Promise.all(
    Array.from({ length: sockets }, () => new Promise((resolve) => {
      const s = net.connect({ host: url.hostname, port: Number(url.port), noDelay: true }, () => resolve(s));
    })),
  );
  let lengths = null; // response length per path, learned from the first response
  const state = conns.map((socket) => {
    const st = { socket, waiting: [], buffered: 0, inFlight: 0 };
    socket.on('data', (chunk) => {
      st.buffered += chunk.length;
      while (st.waiting.length > 0 && st.buffered >= st.waiting[0].len) {
        const w = st.waiting.shift();
        st.buffered -= w.len;
        st.inFlight--;
        w.resolve(w.len);
        if (queue.length > 0) {
          const q = queue.shift();
          send(st, q.r, q.resolve);
        }
      }
    });
    return st;
  });
  const requests = new Map();
  const queue = [];
  let next = 0;
  const send = (st, r, resolve) => {
    st.inFlight++;
    st.waiting.push({ len: r.len, resolve });
    st.socket.write(r.bytes);
  };
  const responseLength = async (path) => {
    // Learn each path's full response size once, with a throwaway socket.
    lengths ??= new Map();
    if (!lengths.has(path)) {
      lengths.set(path, await new Promise((resolve) => {
        const s = net.connect({ host: url.hostname, port: Number(url.port) }, () => s.write(`GET ${path} HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`));
        let data = Buffer.alloc(0);
        s.on('data', (c) => {
          data = Buffer.concat([data, c]);
          const headEnd = data.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          const len = Number(/content-length: (\d+)/i.exec(data.subarray(0, headEnd).toString())[1]);
          if (data.length >= headEnd + 4 + len) {
            s.destroy();
            resolve(headEnd + 4 + len);
          }
        });
      }));
    }
    return lengths.get(path);
  };
  return {
    name: 'raw-limit',
    async prepare(path) {
      requests.set(path, { bytes: Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`), len: await responseLength(path) });
    },
    get(path) {
      const r = requests.get(path);
      return new Promise((resolve) => {
        // Round-robin over sockets with room in their pipeline; otherwise wait in FIFO order.
        for (let i = 0; i < state.length; i++) {
          const st = state[(next + i) % state.length];
          if (st.inFlight < pipelining) {
            next = (next + i + 1) % state.length;
            return send(st, r, resolve);
          }
        }
        queue.push({ r, resolve });
      });
    },
    close: async () => conns.forEach((s) => s.destroy()),
  };
}
