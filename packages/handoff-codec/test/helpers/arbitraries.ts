// fast-check arbitraries for the handoff model: any value the encoder accepts, with a tag or without.
import fc from 'fast-check';
import { AnswerStatus, HeaderFlag, MAX_ACK_BLOCKS, MessageType } from '@nat64/handoff-codec';
import type { AckBlock, HandoffEntry, HandoffMessage, MessageHeader } from '@nat64/handoff-codec';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn });

export const entryArb: fc.Arbitrary<HandoffEntry> = fc.record({
  protocol: u8,
  reason: u8,
  natAddress: u32,
  natPort: u16,
  clientAddress: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  clientPort: u16,
  serverAddress: u32,
  serverPort: u16,
  time: fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.maxSafeNat()),
});

const headerArb: fc.Arbitrary<MessageHeader> = fc
  .record({
    version: fc.constant(1),
    // Any flag but A, which the model expresses as `tag`.
    flags: u16.map((flags) => flags & ~HeaderFlag.AUTHENTICATED),
    epoch: u64,
    cookie: u64,
    sequence: u32,
    tag: fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 }), { nil: undefined }),
  })
  .map(({ tag, ...rest }) => (tag === undefined ? rest : { ...rest, tag }));

const blockArb: fc.Arbitrary<AckBlock> = fc.record({ start: u32, end: u32 });
const entriesArb = fc.array(entryArb, { minLength: 1, maxLength: 40 });

const bodyArb = fc.oneof(
  fc.record({ type: fc.constant(MessageType.HELLO), natAddress: u32, capabilities: u16 }),
  fc.record({ type: fc.constant(MessageType.HELLO_ACK), receiverFlags: u16, capabilities: u16, window: u16 }),
  fc.record({ type: fc.constantFrom(MessageType.CREATED, MessageType.DELETED, MessageType.RELEASE), entries: entriesArb }),
  fc.record({ type: fc.constant(MessageType.ACK), cumulative: u32, blocks: fc.array(blockArb, { maxLength: MAX_ACK_BLOCKS }) }),
  fc.record({
    type: fc.constant(MessageType.QUERY),
    protocol: u8,
    natPort: u16,
    natAddress: u32,
    serverAddress: u32,
    serverPort: u16,
  }),
  fc.record({
    type: fc.constant(MessageType.CLIENT_QUERY),
    protocol: u8,
    natAddress: u32,
    clientAddress: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    clientPort: u16,
    serverAddress: u32,
    serverPort: u16,
  }),
  fc.oneof(
    fc.record({ type: fc.constant(MessageType.ANSWER), status: fc.constant(AnswerStatus.FOUND), entry: entryArb }),
    fc.record({
      type: fc.constant(MessageType.ANSWER),
      status: fc.integer({ min: 1, max: 0xff }),
      entry: fc.constant(null),
    }),
  ),
);

export const messageArb: fc.Arbitrary<HandoffMessage> = fc.tuple(headerArb, bodyArb).map(([header, body]) => ({ ...header, ...body }) as HandoffMessage);
