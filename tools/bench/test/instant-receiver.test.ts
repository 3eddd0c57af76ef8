// handoff-engine's in-process receiver: what it notes from a gateway's output batch and the IPv4
// packets it answers with, decoded as a gateway would decode them.
import { HANDOFF_PORT, HANDOFF_VERSION, MessageType, ReceiverFlag, createEntry, datagram, type HandoffMessage } from '@nat64/handoff-codec';
import { internetChecksum, pseudoHeaderSum4, readU16, readU32, verifyChecksum, writeU32 } from '@nat64/wire';
import { describe, expect, it } from 'vitest';
import { InstantReceiver } from '../src/instant-receiver.js';

const NAT = 0xc6336401;
const SERVER = 0xcb007163;
const EPOCH = 0x0102030405060708n;

/** `message` as the IPv4 UDP packet a gateway writes from NAT:62863 to SERVER:62863 (checksums left out: the receiver does not check them). */
function packet(message: HandoffMessage): Uint8Array {
  const out = new Uint8Array(1536);
  const end = datagram.encode(message, out, 28);
  out[0] = 0x45;
  out[9] = 17;
  writeU32(out, 12, NAT);
  writeU32(out, 16, SERVER);
  out[22] = HANDOFF_PORT >> 8;
  out[23] = HANDOFF_PORT & 0xff;
  return out.subarray(0, end);
}

function created(sequence: number): HandoffMessage {
  const entry = createEntry();
  entry.protocol = 17;
  entry.natAddress = NAT;
  entry.natPort = 40_000 + sequence;
  return { type: MessageType.CREATED, version: HANDOFF_VERSION, flags: 0, epoch: EPOCH, cookie: 1n, sequence, entries: [entry] };
}

/** Hands `packets` to the receiver as one output batch, answers, and decodes every answer it queued. */
function exchange(receiver: InstantReceiver, packets: Uint8Array[]): Array<{ message: HandoffMessage; source: number; destination: number }> {
  const buffer = new Uint8Array(packets.length * 1536);
  const offsets = new Uint32Array(packets.length);
  packets.forEach((p, i) => {
    buffer.set(p, i * 1536);
    offsets[i] = i * 1536;
  });
  receiver.sink(buffer, offsets, new Uint32Array(packets.length), packets.length);
  receiver.answer();
  const out = new Uint8Array(1536);
  const answers = [];
  while (receiver.pending > 0) {
    const length = receiver.take(out, 0, SERVER);
    expect(internetChecksum(out, 0, 20)).toBe(0);
    expect(verifyChecksum(out, 20, length, pseudoHeaderSum4(SERVER, NAT, 17, length - 20))).toBe(true);
    expect([readU16(out, 20), readU16(out, 22), readU16(out, 24)]).toEqual([HANDOFF_PORT, HANDOFF_PORT, length - 20]);
    answers.push({ message: datagram.decode(out, 28, length - 28), source: readU32(out, 12), destination: readU32(out, 16) });
  }
  return answers;
}

describe('InstantReceiver', () => {
  it('answers a HELLO with an authoritative HELLO-ACK under the gateway epoch, from the server to the NAT address', () => {
    const hello: HandoffMessage = {
      type: MessageType.HELLO,
      version: HANDOFF_VERSION,
      flags: 0,
      epoch: EPOCH,
      cookie: 0n,
      sequence: 7,
      natAddress: NAT,
      capabilities: 1,
    };
    const [answer] = exchange(new InstantReceiver(), [packet(hello)]);
    expect(answer!.source).toBe(SERVER);
    expect(answer!.destination).toBe(NAT);
    expect(answer!.message).toMatchObject({ type: MessageType.HELLO_ACK, epoch: EPOCH, sequence: 7, receiverFlags: ReceiverFlag.AUTHORITATIVE });
  });

  it('acknowledges CREATED cumulatively in sequence order, and holds the cumulative point at a gap', () => {
    const receiver = new InstantReceiver();
    const cumulative = (packets: Uint8Array[]) =>
      exchange(receiver, packets).map(({ message }) => (message.type === MessageType.ACK ? message.cumulative : -1));
    expect(cumulative([packet(created(1)), packet(created(2))])).toEqual([1, 2]);
    expect(cumulative([packet(created(4))])).toEqual([2]);
    expect(cumulative([packet(created(3))])).toEqual([3]);
  });

  it('ignores what is not a handoff datagram', () => {
    const other = packet(created(1));
    other[23] = 53;
    expect(exchange(new InstantReceiver(), [other])).toEqual([]);
  });
});
