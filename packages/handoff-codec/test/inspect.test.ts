import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DatagramView,
  DecodeStatus,
  HandoffDecodeError,
  MessageType,
  Size,
  createEntry,
  datagram,
  decodeStatusName,
  inspectDatagram,
  readAckBlock,
  readEntry,
} from '@nat64/handoff-codec';
import type { AckBlock, Created, HandoffEntry, HandoffMessage } from '@nat64/handoff-codec';
import { messageArb } from './helpers/arbitraries.js';
import { hex } from './helpers/hex.js';
import { VECTORS, ack, answerFound, answerNotFound, clientQuery, created, hello, helloAck, query, taggedHello } from './helpers/vectors.js';

/** A copy of `bytes` with octets replaced at offsets, and optionally cut or extended to `length`. */
function patch(bytes: Uint8Array, changes: Record<number, number>, length = bytes.length): Uint8Array {
  const out = new Uint8Array(length);
  out.set(bytes.subarray(0, Math.min(length, bytes.length)));
  for (const [at, value] of Object.entries(changes)) out[Number(at)] = value;
  return out;
}

function inspect(bytes: Uint8Array): { status: string; at: number; view: DatagramView } {
  const view = new DatagramView();
  const status = inspectDatagram(bytes, 0, bytes.length, view);
  return { status: decodeStatusName(status), at: view.problemOffset, view };
}

/** Reads a datagram through the hot path into a plain model, to compare with decode(). */
function readThroughView(buf: Uint8Array, view: DatagramView): HandoffMessage | 'TIME_RANGE' {
  const entries: HandoffEntry[] = [];
  for (let i = 0; i < view.count && view.type !== MessageType.ACK; i++) {
    const entry = createEntry();
    if (!readEntry(buf, view.entriesOffset + i * Size.ENTRY, entry)) return 'TIME_RANGE';
    entries.push(entry);
  }
  const blocks: AckBlock[] = [];
  for (let i = 0; i < view.count && view.type === MessageType.ACK; i++) {
    const block = { start: 0, end: 0 };
    readAckBlock(buf, view.blocksOffset + i * Size.ACK_BLOCK, block);
    blocks.push(block);
  }
  const header = {
    version: view.version,
    flags: view.flags & 0x7fff,
    epoch: view.epoch(),
    cookie: view.cookie(),
    sequence: view.sequence,
    ...(view.tagged ? { tag: buf.slice(view.bodyEnd, view.bodyEnd + Size.TAG) } : {}),
  };
  switch (view.type) {
    case MessageType.HELLO:
      return { ...header, type: view.type, natAddress: view.natAddress, capabilities: view.capabilities };
    case MessageType.HELLO_ACK:
      return { ...header, type: view.type, receiverFlags: view.receiverFlags, capabilities: view.capabilities, window: view.window };
    case MessageType.ACK:
      return { ...header, type: view.type, cumulative: view.cumulative, blocks };
    case MessageType.QUERY:
      return {
        ...header,
        type: view.type,
        protocol: view.protocol,
        natPort: view.natPort,
        natAddress: view.natAddress,
        serverAddress: view.serverAddress,
        serverPort: view.serverPort,
      };
    case MessageType.CLIENT_QUERY:
      return {
        ...header,
        type: view.type,
        protocol: view.protocol,
        clientPort: view.clientPort,
        natAddress: view.natAddress,
        serverAddress: view.serverAddress,
        clientAddress: buf.slice(view.clientAddressOffset, view.clientAddressOffset + 16),
        serverPort: view.serverPort,
      };
    case MessageType.ANSWER:
      return { ...header, type: view.type, status: view.answerStatus, entry: entries[0] ?? null };
    default:
      return { ...header, type: view.type as typeof MessageType.CREATED, entries };
  }
}

/** inspect+read and decode() agree: both accept with equal results, or both reject alike. */
function expectAgreement(buf: Uint8Array, offset: number, length: number): void {
  const view = new DatagramView();
  const status = inspectDatagram(buf, offset, length, view);
  expect(Object.values(DecodeStatus)).toContain(status);
  let decoded: HandoffMessage | HandoffDecodeError;
  try {
    decoded = datagram.decode(buf, offset, length);
  } catch (error) {
    if (!(error instanceof HandoffDecodeError)) throw error;
    decoded = error;
  }
  if (status !== DecodeStatus.OK) {
    expect(decoded).toBeInstanceOf(HandoffDecodeError);
    const error = decoded as HandoffDecodeError;
    expect([error.code, error.offset]).toEqual([decodeStatusName(status), view.problemOffset]);
    return;
  }
  const read = readThroughView(buf, view);
  if (read === 'TIME_RANGE') {
    expect((decoded as HandoffDecodeError).code).toBe('TIME_RANGE');
  } else {
    expect(decoded).toEqual(read);
  }
}

describe('inspect', () => {
  it('fills the view with the header and body fields of each golden vector', () => {
    const { status, view } = inspect(created.bytes);
    expect(status).toBe('OK');
    expect({ ...view }).toMatchObject({
      version: 1,
      type: MessageType.CREATED,
      length: 112,
      flags: 0,
      tagged: false,
      epochHigh: 0x01234567,
      epochLow: 0x89abcdef,
      cookieHigh: 0x8899aabb,
      cookieLow: 0xccddeeff,
      sequence: 1,
      bodyOffset: 28,
      bodyEnd: 112,
      count: 2,
      entriesOffset: 32,
    });
    expect(view.epoch()).toBe(0x0123456789abcdefn);
    expect(view.cookie()).toBe(0x8899aabbccddeeffn);

    expect({ ...inspect(hello.bytes).view }).toMatchObject({ natAddress: 0xc0000201, capabilities: 3, count: 0 });
    expect({ ...inspect(helloAck.bytes).view }).toMatchObject({ receiverFlags: 0x8000, capabilities: 1, window: 256 });
    expect({ ...inspect(ack.bytes).view }).toMatchObject({ cumulative: 2, count: 2, blocksOffset: 36 });
    expect({ ...inspect(query.bytes).view }).toMatchObject({
      protocol: 17,
      natPort: 40001,
      natAddress: 0xc0000201,
      serverAddress: 0xc633640a,
      serverPort: 53,
      bodyEnd: 72,
    });
    expect({ ...inspect(answerFound.bytes).view }).toMatchObject({ answerStatus: 0, count: 1, entriesOffset: 32 });
    expect({ ...inspect(answerNotFound.bytes).view }).toMatchObject({ answerStatus: 1, count: 0 });
    expect({ ...inspect(taggedHello.bytes).view }).toMatchObject({ tagged: true, flags: 0x8000, length: 52, bodyEnd: 36 });
  });

  it('reads entries into one reusable entry without new objects', () => {
    const view = new DatagramView();
    expect(inspectDatagram(created.bytes, 0, created.bytes.length, view)).toBe(DecodeStatus.OK);
    const out = createEntry();
    const address = out.clientAddress;
    const expected = (created.value as Created).entries;
    for (let i = 0; i < view.count; i++) {
      expect(readEntry(created.bytes, view.entriesOffset + i * Size.ENTRY, out)).toBe(true);
      expect(out).toEqual(expected[i]);
      expect(out.clientAddress).toBe(address);
    }
  });

  it('flags an entry whose time a JS number cannot hold, and decode rejects it', () => {
    const bytes = patch(created.bytes, { [72 + 32 + 1]: 0x20 }); // entry 1 time high word 0x0020845b: >= 2^53
    const view = new DatagramView();
    expect(inspectDatagram(bytes, 0, bytes.length, view)).toBe(DecodeStatus.OK);
    expect(readEntry(bytes, 32, createEntry())).toBe(true);
    expect(readEntry(bytes, 72, createEntry())).toBe(false);
    expect(() => datagram.decode(bytes)).toThrow(
      expect.objectContaining({ code: 'TIME_RANGE', offset: 104, message: 'Cannot decode CREATED entry 1 (time beyond 2^53 microseconds)' }),
    );
  });

  const malformed: { name: string; bytes: Uint8Array; status: string; at: number }[] = [
    { name: 'an empty datagram', bytes: new Uint8Array(0), status: 'TRUNCATED', at: 0 },
    { name: 'version 2', bytes: patch(created.bytes, { 0: 2 }), status: 'UNKNOWN_VERSION', at: 0 },
    { name: 'version 0, even when short', bytes: patch(created.bytes, { 0: 0 }, 3), status: 'UNKNOWN_VERSION', at: 0 },
    { name: 'type 0', bytes: patch(created.bytes, { 1: 0 }), status: 'UNKNOWN_TYPE', at: 1 },
    { name: 'type 10', bytes: patch(created.bytes, { 1: 10 }), status: 'UNKNOWN_TYPE', at: 1 },
    { name: 'a header cut in the epoch', bytes: created.bytes.slice(0, 12), status: 'TRUNCATED', at: 8 },
    { name: 'a Length field below the datagram length', bytes: patch(created.bytes, { 3: 111 }), status: 'LENGTH_MISMATCH', at: 2 },
    { name: 'a trailing octet', bytes: patch(created.bytes, {}, 113), status: 'LENGTH_MISMATCH', at: 2 },
    { name: 'a Length field below the header', bytes: patch(hello.bytes, { 3: 20 }), status: 'LENGTH_MISMATCH', at: 2 },
    { name: 'a Length field above the datagram length', bytes: patch(hello.bytes, { 3: 40 }), status: 'TRUNCATED', at: 36 },
    { name: 'a Length field one entry too big', bytes: patch(created.bytes, { 3: 152 }), status: 'BAD_COUNT', at: 28 },
    { name: 'a HELLO-ACK of 40 octets', bytes: patch(helloAck.bytes, { 3: 40 }, 40), status: 'LENGTH_MISMATCH', at: 2 },
    { name: 'an ANSWER of 71 octets', bytes: patch(answerFound.bytes, { 3: 71 }, 71), status: 'LENGTH_MISMATCH', at: 2 },
    { name: 'a CREATED without room for its count', bytes: patch(created.bytes, { 3: 30 }, 30), status: 'LENGTH_MISMATCH', at: 2 },
    { name: 'an ACK without room for its block count', bytes: patch(ack.bytes, { 3: 32 }, 32), status: 'LENGTH_MISMATCH', at: 2 },
    { name: 'count 0', bytes: patch(created.bytes, { 3: 32, 29: 0 }, 32), status: 'BAD_COUNT', at: 28 },
    { name: 'count 3 with 2 entries', bytes: patch(created.bytes, { 29: 3 }), status: 'BAD_COUNT', at: 28 },
    { name: 'count 1 with 2 entries', bytes: patch(created.bytes, { 29: 1 }), status: 'BAD_COUNT', at: 28 },
    { name: 'an entry and a half', bytes: patch(created.bytes, { 3: 92 }, 92), status: 'BAD_COUNT', at: 28 },
    { name: 'block count 3 with 2 blocks', bytes: patch(ack.bytes, { 32: 3 }), status: 'BAD_COUNT', at: 32 },
    {
      name: 'an ACK with 17 blocks',
      bytes: patch(ack.bytes, { 2: 0, 3: 36 + 17 * 8, 32: 17 }, 36 + 17 * 8),
      status: 'TOO_MANY_BLOCKS',
      at: 32,
    },
    { name: 'a QUERY of 71 octets', bytes: patch(query.bytes, { 3: 71 }, 71), status: 'UNDERSIZED', at: 2 },
    { name: 'a QUERY without padding', bytes: patch(query.bytes, { 3: 44 }, 44), status: 'UNDERSIZED', at: 2 },
    { name: 'a tagged QUERY padded only for an untagged ANSWER', bytes: patch(query.bytes, { 4: 0x80 }), status: 'UNDERSIZED', at: 2 },
    { name: 'a CLIENT-QUERY of 71 octets', bytes: patch(clientQuery.bytes, { 3: 71 }, 71), status: 'UNDERSIZED', at: 2 },
    { name: 'a CLIENT-QUERY without padding', bytes: patch(clientQuery.bytes, { 3: 60 }, 60), status: 'UNDERSIZED', at: 2 },
    { name: 'a tagged CLIENT-QUERY padded only for an untagged ANSWER', bytes: patch(clientQuery.bytes, { 4: 0x80 }), status: 'UNDERSIZED', at: 2 },
    { name: 'a HELLO of 32 octets', bytes: patch(hello.bytes, { 3: 32 }, 32), status: 'UNDERSIZED', at: 2 },
    { name: 'flag A on a HELLO-ACK without tag', bytes: patch(helloAck.bytes, { 4: 0x80 }), status: 'TAG_MISSING', at: 4 },
    { name: 'flag A on a HELLO without tag', bytes: patch(hello.bytes, { 4: 0x80 }), status: 'TAG_MISSING', at: 4 },
    { name: 'flag A on a CREATED without tag', bytes: patch(created.bytes, { 4: 0x80 }), status: 'BAD_COUNT', at: 28 },
    { name: 'a tagged HELLO cut in its tag', bytes: taggedHello.bytes.slice(0, 44), status: 'TRUNCATED', at: 36 },
  ];

  it.each(malformed)('rejects $name as $status at $at', ({ bytes, status, at }) => {
    const result = inspect(bytes);
    expect([result.status, result.at]).toEqual([status, at]);
    expectAgreement(bytes, 0, bytes.length);
  });

  it('decodes rejected datagrams into errors that name the problem', () => {
    const cases: [Uint8Array, string][] = [
      [patch(created.bytes, { 0: 2 }), 'Cannot decode header (unknown version 2)'],
      [patch(created.bytes, { 1: 10 }), 'Cannot decode header (unknown type 10)'],
      [patch(created.bytes, {}, 113), 'Cannot decode header (length field 112 but 113 octets)'],
      [patch(helloAck.bytes, { 3: 40 }, 40), 'Cannot decode header (length 40 does not fit a HELLO-ACK)'],
      [patch(helloAck.bytes, { 4: 0x80 }), 'Cannot decode header (flag A set but length 36 leaves no room for a tag)'],
      [patch(created.bytes, { 3: 32, 29: 0 }, 32), 'Cannot decode CREATED body (no entries)'],
      [patch(created.bytes, { 29: 3 }), 'Cannot decode CREATED body (count 3 does not fit length 112)'],
      [patch(ack.bytes, { 2: 0, 3: 172, 32: 17 }, 172), 'Cannot decode ACK body (17 blocks, at most 16)'],
      [patch(query.bytes, { 3: 71 }, 71), 'Cannot decode QUERY (length 71 is below the size of its response)'],
    ];
    for (const [bytes, message] of cases) expect(() => datagram.decode(bytes)).toThrow(message);
  });

  it('accepts datagrams with unknown flags, non-zero reserved fields and extra padding', () => {
    expect(inspect(patch(created.bytes, { 4: 0x7f, 5: 0xff, 6: 0xff, 7: 0xff, 30: 0xff })).status).toBe('OK');
    expect(inspect(patch(ack.bytes, { 33: 0xff, 35: 0xff })).status).toBe('OK');
    const longHello = inspect(patch(hello.bytes, { 3: 100, 99: 0xff }, 100));
    expect([longHello.status, longHello.view.bodyEnd]).toEqual(['OK', 100]);
  });

  it('never reads past the buffer when told the datagram is longer than it', () => {
    const view = new DatagramView();
    const bytes = created.bytes.subarray(0, 50);
    expect(inspectDatagram(bytes, 0, 112, view)).toBe(DecodeStatus.TRUNCATED);
    expect(view.problemOffset).toBe(40); // octet 50 is in entry 0's client address, octets 40 to 55
    expect(inspectDatagram(bytes, 60, 10, view)).toBe(DecodeStatus.TRUNCATED);
    expect(inspectDatagram(bytes, -1, 10, view)).toBe(DecodeStatus.TRUNCATED);
  });

  it('inspects a datagram inside a larger buffer with absolute offsets', () => {
    const buf = hex('ffffffff');
    const big = new Uint8Array(4 + created.bytes.length + 3);
    big.set(buf);
    big.set(created.bytes, 4);
    const view = new DatagramView();
    expect(inspectDatagram(big, 4, created.bytes.length, view)).toBe(DecodeStatus.OK);
    expect([view.offset, view.bodyOffset, view.entriesOffset, view.bodyEnd]).toEqual([4, 32, 36, 116]);
    expect(inspectDatagram(big, 4, created.bytes.length - 1, view)).toBe(DecodeStatus.TRUNCATED);
    expect(view.problemOffset).toBe(4 + 104);
  });

  it('agrees with decode on every golden vector', () => {
    for (const vector of VECTORS) expectAgreement(vector.bytes, 0, vector.bytes.length);
  });

  it('agrees with decode on any valid datagram, at any offset', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(16), (message, offset) => {
        const buf = new Uint8Array(offset + datagram.encodingLength(message) + 3);
        const end = datagram.encode(message, buf, offset);
        const view = new DatagramView();
        expect(inspectDatagram(buf, offset, end - offset, view)).toBe(DecodeStatus.OK);
        expect(readThroughView(buf, view)).toEqual(message);
        expectAgreement(buf, offset, end - offset);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes and agrees with decode on them', () => {
    // Mostly version 1 and a known type, so that the fuzzing reaches past the first two checks.
    const plausible = fc
      .tuple(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.integer({ min: 0, max: 10 }), fc.boolean())
      .map(([bytes, type, fixLength]) => {
        if (bytes.length > 0) bytes[0] = 1;
        if (bytes.length > 1) bytes[1] = type;
        if (fixLength && bytes.length > 3) {
          bytes[2] = bytes.length >>> 8;
          bytes[3] = bytes.length & 0xff;
        }
        return bytes;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 100 }), plausible), (bytes) => {
        expectAgreement(bytes, 0, bytes.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on mutations of valid datagrams and agrees with decode on them', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('grow' as const), by: fc.integer({ min: 1, max: 48 }) }),
    );
    fc.assert(
      fc.property(messageArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (message, mutations) => {
        let bytes: Uint8Array = new Uint8Array(datagram.encodingLength(message));
        datagram.encode(message, bytes, 0);
        for (const m of mutations) {
          if (m.kind === 'set' && bytes.length > 0) bytes[m.at % bytes.length] = m.value;
          if (m.kind === 'cut') bytes = bytes.slice(0, m.at % (bytes.length + 1));
          if (m.kind === 'grow') bytes = patch(bytes, {}, bytes.length + m.by);
        }
        expectAgreement(bytes, 0, bytes.length);
      }),
      { numRuns: 2000 },
    );
  });
});
