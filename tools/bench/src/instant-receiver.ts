// The in-process receiver of handoff-engine: it answers every HELLO with an authoritative HELLO-ACK
// and every CREATED or DELETED with a cumulative ACK at once, the answers arriving in the gateway's
// next batch as IPv4 packets, as they do on a device. It allocates nothing per datagram: the benchmark
// measures the gateway, and a receiver's garbage would bring the collector's threads onto the other
// core, where they slow the gateway's memory-bound table code (docs/BENCHMARKS.md, round sixteen).
import { Capability, HANDOFF_PORT, HANDOFF_VERSION, MessageType, ReceiverFlag, datagram, type Ack, type HelloAck } from '@nat64/handoff-codec';
import { finishUdpChecksum, internetChecksum, pseudoHeaderSum4, readU32, sumWords, writeU16, writeU32 } from '@nat64/wire';

const COOKIE = 0x8899aabbccddeeffn;
/** Answers and noted datagrams held between two batches; more than a batch of 64 can bring. */
const CAPACITY = 256;
/** The largest answer: an ACK or HELLO-ACK without blocks, far below it. */
const ANSWER_BYTES = 128;
const IPV4_UDP = 28;

export class InstantReceiver {
  private readonly notedNat = new Uint32Array(CAPACITY);
  private readonly notedType = new Uint8Array(CAPACITY);
  private readonly notedSequence = new Uint32Array(CAPACITY);
  private noted = 0;
  private readonly answerNat = new Uint32Array(CAPACITY);
  private readonly answerLength = new Uint16Array(CAPACITY);
  private readonly answers = new Uint8Array(CAPACITY * ANSWER_BYTES);
  private answerHead = 0;
  private answerCount = 0;
  /** Receive cumulative number per NAT address (section 6.3); one gateway, one epoch per run. */
  private readonly cumulative = new Map<number, number>();
  private epochHigh = -1;
  private epochLow = -1;
  private readonly helloAck: HelloAck = {
    type: MessageType.HELLO_ACK,
    version: HANDOFF_VERSION,
    flags: 0,
    epoch: 0n,
    cookie: COOKIE,
    sequence: 0,
    receiverFlags: ReceiverFlag.AUTHORITATIVE,
    capabilities: Capability.HANDOFF_V1,
    window: 256,
  };
  private readonly ack: Ack = { type: MessageType.ACK, version: HANDOFF_VERSION, flags: 0, epoch: 0n, cookie: COOKIE, sequence: 0, cumulative: 0, blocks: [] };

  /** The gateway's output batch: notes the handoff datagrams (inside the measured batch, in both modes). */
  sink(buffer: Uint8Array, offsets: Uint32Array, _lengths: Uint32Array, count: number): number {
    for (let i = 0; i < count; i++) {
      const at = offsets[i]!;
      if (buffer[at]! >>> 4 !== 4 || buffer[at + 9] !== 17 || ((buffer[at + 22]! << 8) | buffer[at + 23]!) !== HANDOFF_PORT) continue;
      if (this.noted === CAPACITY) throw new Error('instant receiver: more handoff datagrams in one batch than it notes');
      const n = this.noted++;
      this.notedNat[n] = readU32(buffer, at + 12);
      this.notedType[n] = buffer[at + IPV4_UDP + 1]!;
      this.notedSequence[n] = readU32(buffer, at + IPV4_UDP + 24);
      this.setEpoch(readU32(buffer, at + IPV4_UDP + 8), readU32(buffer, at + IPV4_UDP + 12));
    }
    return count;
  }

  /** Answers what the gateway sent (between batches, outside its measured time). */
  answer(): void {
    for (let i = 0; i < this.noted; i++) {
      const natAddress = this.notedNat[i]!;
      const type = this.notedType[i]!;
      if (type === MessageType.HELLO) {
        this.helloAck.sequence = this.notedSequence[i]!;
        this.queue(natAddress, this.helloAck);
      } else if (type === MessageType.CREATED || type === MessageType.DELETED) {
        const key = natAddress | 0;
        const cumulative = this.cumulative.get(key) ?? 0;
        if (this.notedSequence[i] === cumulative + 1) this.cumulative.set(key, cumulative + 1);
        this.ack.cumulative = this.cumulative.get(key) ?? 0;
        this.queue(natAddress, this.ack);
      }
    }
    this.noted = 0;
  }

  get pending(): number {
    return this.answerCount;
  }

  /** Writes the oldest answer at `at` in `out` as an IPv4 UDP packet from the server to its NAT address; returns its length. */
  take(out: Uint8Array, at: number, server: number): number {
    const slot = this.answerHead;
    this.answerHead = (slot + 1) % CAPACITY;
    this.answerCount--;
    const length = this.answerLength[slot]!;
    const total = IPV4_UDP + length;
    const udpLength = total - 20;
    const natAddress = this.answerNat[slot]!;
    // RFC 791 header: TOS 0, identification and fragment fields 0, TTL 64, UDP.
    out.fill(0, at, at + IPV4_UDP);
    out[at] = 0x45;
    writeU16(out, at + 2, total);
    out[at + 8] = 64;
    out[at + 9] = 17;
    writeU32(out, at + 12, server >>> 0);
    writeU32(out, at + 16, natAddress);
    writeU16(out, at + 10, internetChecksum(out, at, at + 20));
    writeU16(out, at + 20, HANDOFF_PORT);
    writeU16(out, at + 22, HANDOFF_PORT);
    writeU16(out, at + 24, udpLength);
    out.set(this.answers.subarray(slot * ANSWER_BYTES, slot * ANSWER_BYTES + length), at + IPV4_UDP);
    writeU16(out, at + 26, finishUdpChecksum(sumWords(out, at + 20, at + total, pseudoHeaderSum4(server >>> 0, natAddress, 17, udpLength))));
    return total;
  }

  /** The gateway's epoch, from its datagrams: read once, and again only if it changes. */
  private setEpoch(high: number, low: number): void {
    if (high === this.epochHigh && low === this.epochLow) return;
    this.epochHigh = high;
    this.epochLow = low;
    const epoch = (BigInt(high) << 32n) | BigInt(low);
    this.helloAck.epoch = epoch;
    this.ack.epoch = epoch;
    this.cumulative.clear();
  }

  private queue(natAddress: number, message: HelloAck | Ack): void {
    if (this.answerCount === CAPACITY) throw new Error('instant receiver: more answers waiting than it holds');
    const slot = (this.answerHead + this.answerCount) % CAPACITY;
    this.answerCount++;
    this.answerNat[slot] = natAddress;
    this.answerLength[slot] = datagram.encode(message, this.answers, slot * ANSWER_BYTES) - slot * ANSWER_BYTES;
  }
}
