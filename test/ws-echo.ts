// A minimal WebSocket echo server for tests, on node:http's 'upgrade' event: the
// RFC 6455 handshake, then every text or binary frame the client sends comes back
// unmasked, a ping gets its pong, and a close is answered with a close.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptWebSockets(server: http.Server): void {
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const key = req.headers['sec-websocket-key'];
    if (req.headers.upgrade?.toLowerCase() !== 'websocket' || typeof key !== 'string') {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`);
    let buf = head;
    const onBytes = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        const frame = parseFrame(buf);
        if (frame === null) return;
        buf = buf.subarray(frame.size);
        if (frame.opcode === 8) {
          socket.end(encodeFrame(8, frame.payload.subarray(0, 2)));
          return;
        }
        if (frame.opcode === 9) socket.write(encodeFrame(10, frame.payload));
        else if (frame.opcode === 1 || frame.opcode === 2) socket.write(encodeFrame(frame.opcode, frame.payload));
      }
    };
    socket.on('data', onBytes);
    socket.on('error', () => {});
    if (head.length !== 0) onBytes(Buffer.alloc(0));
  });
}

function parseFrame(b: Buffer): { opcode: number; payload: Buffer; size: number } | null {
  if (b.length < 2) return null;
  const opcode = b[0]! & 0x0f;
  const masked = (b[1]! & 0x80) !== 0;
  let len = b[1]! & 0x7f;
  let at = 2;
  if (len === 126) {
    if (b.length < 4) return null;
    len = b.readUInt16BE(2);
    at = 4;
  } else if (len === 127) {
    if (b.length < 10) return null;
    len = Number(b.readBigUInt64BE(2));
    at = 10;
  }
  const maskAt = at;
  if (masked) at += 4;
  if (b.length < at + len) return null;
  const payload = Buffer.from(b.subarray(at, at + len));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ b[maskAt + (i & 3)]!;
  return { opcode, payload, size: at + len };
}

function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 255]) : Buffer.alloc(10);
  if (len >= 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}
