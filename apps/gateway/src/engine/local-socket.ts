// Handoff datagrams through the gateway's own packet path (handoff v1 section 4): the agent's
// payloads leave as complete IPv4/UDP packets from the NAT address, port 62863, to the host's port
// 62863, injected into the engine's output; datagrams to a pool4 address on port 62863 go to the
// agent, and ICMP errors about our datagrams are handled quietly (counted, never logged per packet).

import type { Counters } from '@nat64/service';
import type { Ipv4View } from '@nat64/xlat';
import type { Engine } from './engine.js';
import type { HandoffCounterName } from '../handoff/counters.js';
import { SPEC } from '../handoff/constants.js';

const IP = SPEC.IPV4_HEADER_LENGTH;
const HEADERS = SPEC.IPV4_HEADER_LENGTH + SPEC.UDP_HEADER_LENGTH;

/** One's complement sum of buf[start, end) as 16-bit big-endian words (RFC 1071), not folded. */
function sum16(buf: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The UDP pseudo-header sum (RFC 768) of an IPv4 datagram. */
function pseudo(src: number, dst: number, udpLength: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + SPEC.IPPROTO_UDP + udpLength;
}

/** What the transport hands datagrams and errors to (the HandoffAgent). */
export interface HandoffReceiver {
  receive(natAddress: number, host: number, hostPort: number, payload: Uint8Array): void;
  portUnreachable(natAddress: number, host: number): void;
}

/**
 * Builds and reads handoff datagrams. Contract: `send` never throws; it writes the packet into one
 * preallocated buffer and the engine copies it into its output batch (so the agent may reuse its
 * payload buffer at once). Received payloads are views into the engine's receive buffer, valid only
 * during the receive() call.
 */
export class HandoffTransport {
  private readonly packet: Uint8Array;

  constructor(
    private readonly engine: Engine,
    private readonly counters: Counters<HandoffCounterName>,
    /** The largest payload send() is given: the agent's MTU minus IPv4 and UDP headers. */
    maxPayload: number,
    private readonly port: number,
  ) {
    this.packet = new Uint8Array(HEADERS + maxPayload);
  }

  /** The agent's `send`: one IPv4/UDP packet from natAddress:port to host:port. */
  send(natAddress: number, host: number, payload: Uint8Array): void {
    const p = this.packet;
    const length = HEADERS + payload.length;
    if (length > p.length) {
      this.counters.add('sendRefused');
      return;
    }
    // RFC 791 header: TOS 0, identification 0 with DF (RFC 6864 4.1: atomic datagrams need no ID).
    p[0] = SPEC.IPV4_VERSION_IHL;
    p[1] = 0;
    p[2] = length >>> 8;
    p[3] = length & 0xff;
    p[4] = 0;
    p[5] = 0;
    p[6] = SPEC.IPV4_DONT_FRAGMENT >>> 8;
    p[7] = 0;
    p[8] = SPEC.IPV4_TTL;
    p[9] = SPEC.IPPROTO_UDP;
    p[10] = 0;
    p[11] = 0;
    writeU32(p, 12, natAddress);
    writeU32(p, 16, host);
    const header = ~fold(sum16(p, 0, IP, 0)) & 0xffff;
    p[10] = header >>> 8;
    p[11] = header & 0xff;
    const udpLength = length - IP;
    p[20] = this.port >>> 8;
    p[21] = this.port & 0xff;
    p[22] = this.port >>> 8;
    p[23] = this.port & 0xff;
    p[24] = udpLength >>> 8;
    p[25] = udpLength & 0xff;
    p[26] = 0;
    p[27] = 0;
    p.set(payload, HEADERS);
    let check = ~fold(sum16(p, IP, length, pseudo(natAddress, host, udpLength))) & 0xffff;
    // RFC 768: a computed checksum of zero is sent as all ones.
    if (check === 0) check = 0xffff;
    p[26] = check >>> 8;
    p[27] = check & 0xff;
    if (this.engine.injectIpv4(p, 0, length)) this.counters.add('datagramsSent');
    else this.counters.add('sendRefused');
  }

  /** Delivers datagrams to the port and ICMP errors about ours to `receiver`; returns the detach function. */
  attach(receiver: HandoffReceiver): () => void {
    const offLocal = this.engine.onLocal(this.port, (v) => this.local(v, receiver));
    const offError = this.engine.onLocalError(this.port, (v) => this.error(v, receiver));
    return () => {
      offLocal();
      offError();
    };
  }

  private local(v: Ipv4View, receiver: HandoffReceiver): void {
    if (v.moreFragments) {
      this.counters.add('fragmented');
      return;
    }
    const udp = v.l4Offset;
    const end = v.end;
    const buf = v.buf;
    if (end - udp < SPEC.UDP_HEADER_LENGTH || ((buf[udp + 4]! << 8) | buf[udp + 5]!) !== end - udp) {
      this.counters.add('malformed');
      return;
    }
    // UDP checksum 0 means none was computed (RFC 768); anything else must verify.
    if ((buf[udp + 6]! | buf[udp + 7]!) !== 0 && fold(sum16(buf, udp, end, pseudo(v.src, v.dst, end - udp))) !== 0xffff) {
      this.counters.add('malformed');
      return;
    }
    this.counters.add('datagramsReceived');
    receiver.receive(v.dst, v.src, v.srcPort, buf.subarray(udp + SPEC.UDP_HEADER_LENGTH, end));
  }

  private error(v: Ipv4View, receiver: HandoffReceiver): void {
    const inner = v.inner!;
    // The quoted datagram went from inner.src (ours) to inner.dst (the host); the error itself may
    // come from a router on the way, so the host is taken from the quote.
    if (v.icmpType === SPEC.ICMP4_UNREACH && v.icmpCode === SPEC.ICMP4_PORT_UNREACH && inner.dstPort === this.port) {
      this.counters.add('portUnreachable');
      receiver.portUnreachable(inner.src, inner.dst);
      return;
    }
    this.counters.add('icmpErrorsOther');
  }
}

function writeU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}
