// A UDP socket on a reserved port of every pool4 address, through the engine's own packet path (the
// gateway owns its pool4 addresses, so it builds these datagrams and reads the replies itself: no
// kernel socket, no route): payloads leave as complete IPv4/UDP packets from a pool4 address and the
// port to the host's same port, injected into the engine's output; datagrams to a pool4 address on
// the port go to the receiver, and ICMP errors about our datagrams are handled quietly (counted,
// never logged per packet). Handoff messages use one on port 62863, Geneve control packets on 6081.

import { Counters } from '@nat64/service';
import { finishUdpChecksum, internetChecksum, pseudoHeaderSum4, sumWords, verifyChecksum, writeU32 } from '@nat64/wire';
import type { Ipv4View } from '@nat64/xlat';
import type { Engine } from './engine.js';

/** Numbers of the packets the socket builds and reads, each with its source. */
const SPEC = {
  /** RFC 791 section 3.1: version 4, IHL 5: a header of 20 octets without options. */
  IPV4_VERSION_IHL: 0x45,
  IPV4_HEADER_LENGTH: 20,
  /** RFC 791 section 3.1: the Don't Fragment flag in the flags/fragment-offset word (handoff v1 section 4: SHOULD set DF). */
  IPV4_DONT_FRAGMENT: 0x4000,
  /** The default TTL IANA recommends (RFC 1700, "IP Time to Live Parameter"); Linux uses it too. */
  IPV4_TTL: 64,
  /** IANA protocol number of UDP (RFC 768). */
  IPPROTO_UDP: 17,
  /** RFC 768: the UDP header is 8 octets. */
  UDP_HEADER_LENGTH: 8,
  /** RFC 792: Destination Unreachable (type 3), port unreachable (code 3). */
  ICMP4_UNREACH: 3,
  ICMP4_PORT_UNREACH: 3,
} as const;

const IP = SPEC.IPV4_HEADER_LENGTH;
const HEADERS = SPEC.IPV4_HEADER_LENGTH + SPEC.UDP_HEADER_LENGTH;

/** What the socket counts, with the explanation `stats --explain` prints (the owner may word it for its port). */
export type LocalSocketCounterName = 'datagramsSent' | 'sendRefused' | 'datagramsReceived' | 'malformed' | 'fragmented' | 'portUnreachable' | 'icmpErrorsOther';

/** Explanations for a socket on `port`. */
export function localSocketExplanations(port: number): Record<LocalSocketCounterName, string> {
  return {
    datagramsSent: `datagrams built and injected toward a host (UDP from the NAT address, port ${port})`,
    sendRefused: 'datagrams the engine refused to inject (too large for the output slot)',
    datagramsReceived: `UDP datagrams to a pool4 address on port ${port} handed to the receiver`,
    malformed: `dropped: a datagram to port ${port} whose UDP length or checksum is wrong`,
    fragmented: `dropped: a fragment of a datagram to port ${port}`,
    portUnreachable: 'ICMP port unreachable about our datagrams (nothing listens on the host)',
    icmpErrorsOther: 'other ICMP errors about our datagrams (host unreachable, fragmentation needed, ...), counted only',
  };
}

/** What the socket hands datagrams and errors to. */
export interface LocalSocketReceiver {
  receive(natAddress: number, host: number, hostPort: number, payload: Uint8Array): void;
  portUnreachable(natAddress: number, host: number): void;
}

/**
 * The socket on one reserved port. Contract: `send` never throws; it writes the packet into one
 * preallocated buffer and the engine copies it into its output batch (so the caller may reuse its
 * payload buffer at once). Received payloads are views into the engine's receive buffer, valid only
 * during the receive() call. Every datagram and error is counted in `counters`.
 */
export class LocalSocket {
  readonly counters: Counters<LocalSocketCounterName>;
  private readonly packet: Uint8Array;

  constructor(
    private readonly engine: Engine,
    private readonly port: number,
    /** The largest payload send() is given. */
    maxPayload: number,
    explanations: Record<LocalSocketCounterName, string> = localSocketExplanations(port),
  ) {
    this.counters = new Counters(explanations);
    this.packet = new Uint8Array(HEADERS + maxPayload);
  }

  /** One IPv4/UDP packet from natAddress:port to host:port. */
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
    const header = internetChecksum(p, 0, IP);
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
    const check = finishUdpChecksum(sumWords(p, IP, length, pseudoHeaderSum4(natAddress, host, SPEC.IPPROTO_UDP, udpLength)));
    p[26] = check >>> 8;
    p[27] = check & 0xff;
    // Per datagram: bumped by index (Counters.add).
    const { values, index } = this.counters;
    if (this.engine.injectIpv4(p, 0, length)) values[index.datagramsSent]!++;
    else values[index.sendRefused]!++;
  }

  /** Delivers datagrams to the port and ICMP errors about ours to `receiver`; returns the detach function. */
  attach(receiver: LocalSocketReceiver): () => void {
    const offLocal = this.engine.onLocal(this.port, (v) => this.local(v, receiver));
    const offError = this.engine.onLocalError(this.port, (v) => this.error(v, receiver));
    return () => {
      offLocal();
      offError();
    };
  }

  private local(v: Ipv4View, receiver: LocalSocketReceiver): void {
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
    if ((buf[udp + 6]! | buf[udp + 7]!) !== 0 && !verifyChecksum(buf, udp, end, pseudoHeaderSum4(v.src, v.dst, SPEC.IPPROTO_UDP, end - udp))) {
      this.counters.add('malformed');
      return;
    }
    this.counters.values[this.counters.index.datagramsReceived]!++;
    receiver.receive(v.dst, v.src, v.srcPort, buf.subarray(udp + SPEC.UDP_HEADER_LENGTH, end));
  }

  private error(v: Ipv4View, receiver: LocalSocketReceiver): void {
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
