// The response parser from bytes alone, fuzzed for split-invariance: generated streams
// of one to three pipelined answers (valid, or mutated: bits flipped, bytes inserted or
// deleted, cut short) must parse the same however the bytes arrive. Every stream is
// fed whole once, then cut in two at every offset; each cut must give the same
// responses (status, headers, body, trailers), the same error and the same verdict on
// bytes nobody asked for. That covers the framing done beside llhttp (a blank line or
// a Content-Length body split over reads), which llhttp alone would not.
import { expect } from 'chai';
import { ResponseParser } from '../../dist/parser/response.js';
import { mutate, rng, validResponse } from '../fuzz/generator.js';

const STREAMS = Number(process.env['HCP_SPLIT_STREAMS'] ?? 160);
const SEED = Number(process.env['HCP_SPLIT_SEED'] ?? 0x5eed_0014);

/** What the parser made of a stream: every completed response, the error, bytes nobody asked for, keep-alive. */
function verdict(p: ResponseParser, eof: boolean): string {
  if (eof) p.eof();
  const out: string[] = [];
  for (let i = 0; i < p.done.length; i++) {
    const res = p.done.at(i);
    out.push(`${res.statusCode} ${res.httpVersion} [${res.rawHeaders.join('|')}] ${res.body.toString('hex')} [${res.rawTrailers.join('|')}]`);
  }
  const err = p.error;
  out.push(err === null ? 'no error' : `${err.code}${(err as { parserCode?: string }).parserCode ?? ''}`);
  out.push(`unasked=${p.unasked} keepAlive=${p.keepAlive} hint=${p.keepAliveHint}`);
  return out.join('\n');
}

function run(p: ResponseParser, answers: number, pieces: Buffer[], eof: boolean): string {
  p.reset();
  for (let i = 0; i < answers; i++) p.expect(false);
  for (const piece of pieces) {
    if (piece.length !== 0) p.feed(piece);
    // A caller stops feeding once the stream is settled one way or the other.
    if (p.error !== null || p.unasked) break;
  }
  return verdict(p, eof);
}

describe('response parser: split-invariance fuzz (no socket)', function () {
  this.timeout(60_000);

  it(`${STREAMS} generated streams, each cut at every offset, parse the same as whole`, () => {
    const p = new ResponseParser(16_384, Infinity);
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // errors are made by the thousand here; their stacks are never read
    let cuts = 0;
    try {
      for (let c = 0; c < STREAMS; c++) {
        const r = rng((SEED ^ Math.imul(c + 1, 0x9e3779b1)) >>> 0);
        const answers = 1 + Math.floor(r() * 3);
        const parts: Buffer[] = [];
        let cut = false;
        for (let i = 0; i < answers && !cut; i++) {
          const v = validResponse(r, `/s${c}.${i}`);
          let bytes = v.bytes;
          if (r() < 0.4) {
            const m = mutate(r, bytes);
            bytes = m.bytes;
            cut = m.truncated;
          }
          parts.push(bytes);
          if (v.close) break; // nothing follows an answer that ends the connection
        }
        const stream = Buffer.concat(parts);
        const eof = r() < 0.5;
        const whole = run(p, answers, [stream], eof);
        for (let k = 1; k < stream.length; k++) {
          // The second piece is a copy: the parser must not keep a view of an earlier read.
          const got = run(p, answers, [stream.subarray(0, k), Buffer.from(stream.subarray(k))], eof);
          if (got !== whole) {
            expect.fail(`stream ${c} (seed ${SEED}) cut at ${k} of ${stream.length}:\n${JSON.stringify(stream.toString('latin1'))}\nwhole:\n${whole}\ncut:\n${got}`);
          }
          cuts++;
        }
      }
    } finally {
      Error.stackTraceLimit = limit;
      p.close();
    }
    expect(cuts).to.be.greaterThan(STREAMS * 50);
    process.stdout.write(`      (${cuts} cuts)\n`);
  });
});
