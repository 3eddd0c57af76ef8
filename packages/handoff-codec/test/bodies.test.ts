import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnswerStatus, ackBody, answerBody, batchBody, clientQueryBody, helloAckBody, helloBody, queryBody } from '@nat64/handoff-codec';
import type { Answer, Codec, HandoffMessage } from '@nat64/handoff-codec';
import { entryArb } from './helpers/arbitraries.js';
import { checkCodec } from './helpers/codec-check.js';
import { toHex } from './helpers/hex.js';
import { ack, answerFound, answerNotFound, clientQuery, created, hello, helloAck, query } from './helpers/vectors.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });

/** The body octets of a golden datagram: everything after the 28-octet header. */
const bodyOf = (bytes: Uint8Array) => bytes.subarray(28);

/** The body fields of a golden message: everything but its header fields. */
function bodyValue(message: HandoffMessage): object {
  const { type: _type, version: _version, flags: _flags, epoch: _epoch, cookie: _cookie, sequence: _sequence, ...body } = message;
  return body;
}

function expectDecodeError(codec: Codec<unknown>, bytes: Uint8Array, length: number, code: string, offset: number, message: string) {
  expect(() => codec.decode(bytes, 0, length)).toThrow(expect.objectContaining({ code, offset, message }));
}

describe('bodies', () => {
  it('encode to the body octets of the golden vectors', () => {
    const pairs: [Codec<unknown>, { bytes: Uint8Array; value: HandoffMessage }][] = [
      [helloBody, hello],
      [helloAckBody, helloAck],
      [batchBody, created],
      [ackBody, ack],
      [queryBody, query],
      [answerBody, answerFound],
      [answerBody, answerNotFound],
      [clientQueryBody, clientQuery],
    ];
    for (const [codec, vector] of pairs) {
      const bytes = checkCodec(codec, bodyValue(vector.value));
      expect(toHex(bytes)).toBe(toHex(bodyOf(vector.bytes)));
    }
  });

  it('round-trip any body', () => {
    fc.assert(
      fc.property(
        fc.record({ natAddress: u32, capabilities: u16 }),
        fc.record({ receiverFlags: u16, capabilities: u16, window: u16 }),
        fc.record({ entries: fc.array(entryArb, { minLength: 1, maxLength: 5 }) }),
        fc.record({ cumulative: u32, blocks: fc.array(fc.record({ start: u32, end: u32 }), { maxLength: 16 }) }),
        fc.record({ protocol: fc.integer({ min: 0, max: 255 }), natPort: u16, natAddress: u32, serverAddress: u32, serverPort: u16 }),
        entryArb,
        fc.record({
          protocol: fc.integer({ min: 0, max: 255 }),
          natAddress: u32,
          clientAddress: fc.uint8Array({ minLength: 16, maxLength: 16 }),
          clientPort: u16,
          serverAddress: u32,
          serverPort: u16,
        }),
        (helloValue, helloAckValue, batch, ackValue, queryValue, entry, clientQueryValue) => {
          checkCodec(clientQueryBody, clientQueryValue);
          checkCodec(helloBody, helloValue);
          checkCodec(helloAckBody, helloAckValue);
          checkCodec(batchBody, batch);
          checkCodec(ackBody, ackValue);
          checkCodec(queryBody, queryValue);
          checkCodec(answerBody, { status: AnswerStatus.FOUND, entry });
          checkCodec(answerBody, { status: AnswerStatus.NOT_AUTHORITATIVE, entry: null });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('name the structure and field where a body is cut', () => {
    expectDecodeError(helloBody, bodyOf(hello.bytes), 5, 'TRUNCATED', 4, 'Cannot decode HELLO body (truncated)');
    expectDecodeError(helloAckBody, bodyOf(helloAck.bytes), 7, 'TRUNCATED', 6, 'Cannot decode HELLO-ACK body (truncated)');
    expectDecodeError(batchBody, bodyOf(created.bytes), 1, 'TRUNCATED', 0, 'Cannot decode batch body (truncated)');
    expectDecodeError(batchBody, bodyOf(created.bytes), 71, 'TRUNCATED', 70, 'Cannot decode batch entry 1 (truncated)');
    expectDecodeError(ackBody, bodyOf(ack.bytes), 6, 'TRUNCATED', 5, 'Cannot decode ACK body (truncated)');
    expectDecodeError(ackBody, bodyOf(ack.bytes), 23, 'TRUNCATED', 20, 'Cannot decode ACK block 1 (truncated)');
    expectDecodeError(queryBody, bodyOf(query.bytes), 13, 'TRUNCATED', 12, 'Cannot decode QUERY body (truncated)');
    expectDecodeError(clientQueryBody, bodyOf(clientQuery.bytes), 13, 'TRUNCATED', 12, 'Cannot decode CLIENT-QUERY body (truncated)');
    expectDecodeError(clientQueryBody, bodyOf(clientQuery.bytes), 29, 'TRUNCATED', 28, 'Cannot decode CLIENT-QUERY body (truncated)');
    expectDecodeError(answerBody, bodyOf(answerNotFound.bytes), 43, 'TRUNCATED', 36, 'Cannot decode ANSWER entry (truncated)');
  });

  it('reject what no datagram may carry', () => {
    const noEntries = bodyOf(created.bytes).slice(0, 4);
    noEntries[1] = 0;
    expectDecodeError(batchBody, noEntries, 4, 'BAD_COUNT', 0, 'Cannot decode batch body (no entries)');
    const manyBlocks = bodyOf(ack.bytes).slice();
    manyBlocks[4] = 17;
    expectDecodeError(ackBody, manyBlocks, manyBlocks.length, 'TOO_MANY_BLOCKS', 4, 'Cannot decode ACK body (17 blocks, at most 16)');
    expectDecodeError(queryBody, bodyOf(query.bytes), 43, 'UNDERSIZED', 16, 'Cannot decode QUERY padding (shorter than an ANSWER)');
    expectDecodeError(clientQueryBody, bodyOf(clientQuery.bytes), 43, 'UNDERSIZED', 32, 'Cannot decode CLIENT-QUERY padding (shorter than an ANSWER)');
  });

  it('ignore the entry octets of an ANSWER that found nothing', () => {
    const bytes = bodyOf(answerNotFound.bytes).slice();
    bytes.fill(0xff, 4);
    expect(answerBody.decode(bytes)).toEqual({ status: AnswerStatus.NOT_FOUND, entry: null });
  });

  it('refuse to encode bodies no datagram may carry', () => {
    const buf = new Uint8Array(1000);
    const entry = (answerFound.value as Answer).entry!;
    const queryValue = bodyValue(query.value) as never;
    expect(() => batchBody.encode({ entries: [] }, buf, 0)).toThrow(RangeError);
    expect(() => ackBody.encode({ cumulative: 0, blocks: Array.from({ length: 17 }, () => ({ start: 1, end: 1 })) }, buf, 0)).toThrow(RangeError);
    expect(() => answerBody.encode({ status: AnswerStatus.FOUND, entry: null }, buf, 0)).toThrow(RangeError);
    expect(() => answerBody.encode({ status: AnswerStatus.NOT_FOUND, entry }, buf, 0)).toThrow(RangeError);
    expect(() => helloAckBody.encode({ receiverFlags: 0, capabilities: 0, window: 65536 }, buf, 0)).toThrow(RangeError);
    expect(() => queryBody.encode(queryValue, new Uint8Array(43), 0)).toThrow(RangeError);
    const clientQueryValue = bodyValue(clientQuery.value) as never;
    expect(() => clientQueryBody.encode(clientQueryValue, new Uint8Array(43), 0)).toThrow(RangeError);
    expect(() => clientQueryBody.encode({ ...(clientQueryValue as object), clientAddress: new Uint8Array(4) } as never, buf, 0)).toThrow(RangeError);
  });
});
