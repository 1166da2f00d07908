// The embedded target of `http-client-pool` without a URL: a keep-alive node:http
// server on a free loopback port, in a worker thread so it has its own event loop.
import * as http from 'node:http';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

const BODY = Buffer.from(JSON.stringify({ hello: 'world', from: 'http-client-pool embedded server' }));

export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

/** Starts the server worker; resolves with its URL once it listens. */
export function startEmbeddedServer(): Promise<EmbeddedServer> {
  const worker = new Worker(new URL(import.meta.url));
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (port: number) => {
      resolve({
        url: `http://127.0.0.1:${port}/`,
        stop: () => worker.terminate().then(() => undefined),
      });
    });
  });
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
      res.end(BODY);
    });
  });
  server.listen(0, '127.0.0.1', () => port.postMessage((server.address() as { port: number }).port));
}
