// IPv6 Neighbor Solicitation and Advertisement (RFC 4861 §4.3, §4.4) inside Ethernet frames: the
// offer and the acceptance of NAT64 bypass (bypass §6). Builders write a whole frame (Ethernet,
// IPv6, ICMPv6 with its checksum, one link-layer address option) into a caller's buffer;
// inspectNeighborMessage checks a received frame without throwing or allocating and fills a
// reusable view; `neighborMessage` is the codec trio over the same frame for tools and tests.
import { copyBytes, finishChecksum, pseudoHeaderSum6, readU16, sumWords, type Codec, type ValueOf, writeU16 } from '@nat64/wire';
import { availableFrom, checkBytes, checkRoom } from './bytes.js';
import { Ethernet, Ndp, Underlay } from './constants.js';
import { writeEthernetHeader } from './ethernet.js';
import { GeneveDecodeError } from './errors.js';

export interface NeighborMessage {
  type: typeof Ndp.NEIGHBOR_SOLICITATION | typeof Ndp.NEIGHBOR_ADVERTISEMENT;
  destinationMac: Uint8Array;
  sourceMac: Uint8Array;
  /** IPv6 source and destination addresses, 16 bytes each. */
  source: Uint8Array;
  destination: Uint8Array;
  target: Uint8Array;
  /** NA flags (Ndp.FLAG_*) in the high bits of one octet; 0 for an NS. */
  flags: number;
  /** The Source (NS) or Target (NA) Link-Layer Address option; null when absent. */
  linkLayer: Uint8Array | null;
}

/** Outcome of inspectNeighborMessage: NS or NA, or why the frame is neither. */
export const NdpStatus = {
  SOLICITATION: 0,
  ADVERTISEMENT: 1,
  TRUNCATED: 2,
  NOT_IPV6: 3,
  NOT_ICMPV6: 4,
  BAD_HOP_LIMIT: 5,
  NOT_NEIGHBOR: 6,
  BAD_CHECKSUM: 7,
  BAD_OPTION: 8,
} as const;
export type NdpStatus = ValueOf<typeof NdpStatus>;

export const NDP_STATUS_NAMES: readonly string[] = [
  'solicitation',
  'advertisement',
  'truncated',
  'not-ipv6',
  'not-icmpv6',
  'bad-hop-limit',
  'not-neighbor',
  'bad-checksum',
  'bad-option',
];

/** Offsets into the inspected frame, reused for every frame. */
export class NdpView {
  buf: Uint8Array = new Uint8Array(0);
  status: NdpStatus = NdpStatus.TRUNCATED;
  type = 0;
  flags = 0;
  destinationMacOffset = 0;
  sourceMacOffset = 0;
  sourceOffset = 0;
  destinationOffset = 0;
  targetOffset = 0;
  /** The link-layer address in the option, or -1 when the message has none. */
  linkLayerOffset = -1;
}

const IP = Ethernet.HEADER_LENGTH;
const ICMP = IP + Underlay.IPV6_HEADER_LENGTH;
/** The frames the builders write: Ethernet, IPv6, NS or NA, one link-layer option. */
export const NEIGHBOR_FRAME_LENGTH = ICMP + Ndp.MESSAGE_LENGTH + Ndp.LINK_LAYER_OPTION_LENGTH;

/** ff02::1:ffXX:XXXX for a target (RFC 4291 §2.7.1), written at buf[offset]. */
export function writeSolicitedNodeAddress(target: Uint8Array, buf: Uint8Array, offset: number): void {
  buf.fill(0, offset, offset + 16);
  buf[offset] = 0xff;
  buf[offset + 1] = 0x02;
  buf[offset + 11] = 0x01;
  buf[offset + 12] = 0xff;
  buf[offset + 13] = target[13]!;
  buf[offset + 14] = target[14]!;
  buf[offset + 15] = target[15]!;
}

/** 33:33 and the low 32 bits of an IPv6 multicast address (RFC 2464 §7), written at buf[offset]. */
export function writeMulticastMac(address: Uint8Array, addressOffset: number, buf: Uint8Array, offset: number): void {
  buf[offset] = 0x33;
  buf[offset + 1] = 0x33;
  copyBytes(address, addressOffset + 12, addressOffset + 16, buf, offset + 2);
}

/** The ICMPv6 checksum of buf[start, end) under the IPv6 pseudo-header (RFC 8200 §8.1, RFC 4443 §2.3). */
export function icmpv6Checksum(buf: Uint8Array, ipOffset: number, start: number, end: number): number {
  const pseudo = pseudoHeaderSum6(buf, ipOffset + 8, buf, ipOffset + 24, Ndp.NEXT_HEADER_ICMPV6, end - start);
  return finishChecksum(sumWords(buf, start, end, pseudo));
}

function writeFrame(buf: Uint8Array, offset: number, value: NeighborMessage): number {
  writeEthernetHeader(buf, offset, value.destinationMac, value.sourceMac, Ethernet.ETHERTYPE_IPV6);
  const ip = offset + IP;
  const icmp = offset + ICMP;
  const end = offset + NEIGHBOR_FRAME_LENGTH - (value.linkLayer === null ? Ndp.LINK_LAYER_OPTION_LENGTH : 0);
  buf[ip] = Underlay.IPV6_VERSION << 4;
  buf[ip + 1] = 0;
  buf[ip + 2] = 0;
  buf[ip + 3] = 0;
  writeU16(buf, ip + 4, end - icmp);
  buf[ip + 6] = Ndp.NEXT_HEADER_ICMPV6;
  buf[ip + 7] = Ndp.HOP_LIMIT;
  copyBytes(value.source, 0, 16, buf, ip + 8);
  copyBytes(value.destination, 0, 16, buf, ip + 24);
  buf[icmp] = value.type;
  buf[icmp + 1] = 0;
  writeU16(buf, icmp + 2, 0);
  buf[icmp + 4] = value.type === Ndp.NEIGHBOR_ADVERTISEMENT ? value.flags : 0;
  buf[icmp + 5] = 0;
  buf[icmp + 6] = 0;
  buf[icmp + 7] = 0;
  copyBytes(value.target, 0, 16, buf, icmp + 8);
  if (value.linkLayer !== null) {
    const option = icmp + Ndp.MESSAGE_LENGTH;
    buf[option] = value.type === Ndp.NEIGHBOR_SOLICITATION ? Ndp.OPTION_SOURCE_LINK_LAYER : Ndp.OPTION_TARGET_LINK_LAYER;
    buf[option + 1] = Ndp.LINK_LAYER_OPTION_LENGTH / 8;
    copyBytes(value.linkLayer, 0, Ethernet.ADDRESS_LENGTH, buf, option + 2);
  }
  writeU16(buf, icmp + 2, icmpv6Checksum(buf, ip, icmp, end));
  return end;
}

export interface SolicitationParams {
  sourceMac: Uint8Array;
  /** The sender's IPv6 address on the tunnel link (bypass §6.1). */
  source: Uint8Array;
  /** PREFIX::SERVER-IPV4, the address clients use. */
  target: Uint8Array;
  /**
   * Unicast to the target and to `destinationMac`, as neighbor unreachability detection probes
   * are (RFC 4861 §7.3.3); default multicast to the solicited-node address (§7.2.2).
   */
  destinationMac?: Uint8Array;
}

/** Writes an NS frame with a Source Link-Layer Address option at `offset`; returns its end. */
export function writeNeighborSolicitation(buf: Uint8Array, offset: number, params: SolicitationParams): number {
  checkRoom(buf, offset, NEIGHBOR_FRAME_LENGTH, 'neighbor solicitation');
  const destination = new Uint8Array(16);
  const destinationMac = new Uint8Array(Ethernet.ADDRESS_LENGTH);
  if (params.destinationMac === undefined) {
    writeSolicitedNodeAddress(params.target, destination, 0);
    writeMulticastMac(destination, 0, destinationMac, 0);
  } else {
    destination.set(params.target);
    destinationMac.set(params.destinationMac);
  }
  return writeFrame(buf, offset, {
    type: Ndp.NEIGHBOR_SOLICITATION,
    destinationMac,
    sourceMac: params.sourceMac,
    source: params.source,
    destination,
    target: params.target,
    flags: 0,
    linkLayer: params.sourceMac,
  });
}

export interface AdvertisementParams {
  sourceMac: Uint8Array;
  destinationMac: Uint8Array;
  source: Uint8Array;
  destination: Uint8Array;
  target: Uint8Array;
  /** Default Solicited | Override, the answer to an NS for an address of one's own (RFC 4861 §7.2.4). */
  flags?: number;
}

/** Writes an NA frame with a Target Link-Layer Address option at `offset`; returns its end. */
export function writeNeighborAdvertisement(buf: Uint8Array, offset: number, params: AdvertisementParams): number {
  checkRoom(buf, offset, NEIGHBOR_FRAME_LENGTH, 'neighbor advertisement');
  return writeFrame(buf, offset, {
    type: Ndp.NEIGHBOR_ADVERTISEMENT,
    destinationMac: params.destinationMac,
    sourceMac: params.sourceMac,
    source: params.source,
    destination: params.destination,
    target: params.target,
    flags: params.flags ?? Ndp.FLAG_SOLICITED | Ndp.FLAG_OVERRIDE,
    linkLayer: params.sourceMac,
  });
}

function stop(view: NdpView, status: NdpStatus): NdpStatus {
  view.status = status;
  return status;
}

/**
 * Checks the Ethernet frame buf[offset, offset + length) as an NS or NA the way RFC 4861 §7.1.1
 * and §7.1.2 validate them: IPv6 with ICMPv6 right behind the fixed header, Hop Limit 255, code 0,
 * at least 24 bytes, a valid checksum, no option of length zero. Never throws, never allocates.
 */
export function inspectNeighborMessage(buf: Uint8Array, offset: number, length: number, view: NdpView): NdpStatus {
  view.buf = buf;
  view.linkLayerOffset = -1;
  view.flags = 0;
  view.type = 0;
  if (offset + length > buf.length) length = buf.length - offset;
  if (length < ICMP) return stop(view, NdpStatus.TRUNCATED);
  const ip = offset + IP;
  if (readU16(buf, offset + Ethernet.TYPE_OFFSET) !== Ethernet.ETHERTYPE_IPV6 || buf[ip]! >>> 4 !== Underlay.IPV6_VERSION) {
    return stop(view, NdpStatus.NOT_IPV6);
  }
  const icmp = offset + ICMP;
  const end = icmp + readU16(buf, ip + 4);
  if (end > offset + length) return stop(view, NdpStatus.TRUNCATED);
  if (buf[ip + 6] !== Ndp.NEXT_HEADER_ICMPV6) return stop(view, NdpStatus.NOT_ICMPV6);
  const type = buf[icmp];
  if (end - icmp < Ndp.MESSAGE_LENGTH || (type !== Ndp.NEIGHBOR_SOLICITATION && type !== Ndp.NEIGHBOR_ADVERTISEMENT) || buf[icmp + 1] !== 0) {
    return stop(view, NdpStatus.NOT_NEIGHBOR);
  }
  if (buf[ip + 7] !== Ndp.HOP_LIMIT) return stop(view, NdpStatus.BAD_HOP_LIMIT);
  const sum = sumWords(buf, ip + 8, ip + 40, 0) + (end - icmp) + Ndp.NEXT_HEADER_ICMPV6;
  if (finishChecksum(sumWords(buf, icmp, end, sum)) !== 0) return stop(view, NdpStatus.BAD_CHECKSUM);
  const wanted = type === Ndp.NEIGHBOR_SOLICITATION ? Ndp.OPTION_SOURCE_LINK_LAYER : Ndp.OPTION_TARGET_LINK_LAYER;
  let at = icmp + Ndp.MESSAGE_LENGTH;
  while (at < end) {
    if (at + 2 > end) return stop(view, NdpStatus.BAD_OPTION);
    const optionLength = buf[at + 1]! * 8;
    if (optionLength === 0 || at + optionLength > end) return stop(view, NdpStatus.BAD_OPTION);
    if (buf[at] === wanted && optionLength >= 2 + Ethernet.ADDRESS_LENGTH && view.linkLayerOffset === -1) view.linkLayerOffset = at + 2;
    at += optionLength;
  }
  view.type = type;
  view.flags = type === Ndp.NEIGHBOR_ADVERTISEMENT ? buf[icmp + 4]! : 0;
  view.destinationMacOffset = offset;
  view.sourceMacOffset = offset + Ethernet.ADDRESS_LENGTH;
  view.sourceOffset = ip + 8;
  view.destinationOffset = ip + 24;
  view.targetOffset = icmp + 8;
  return stop(view, type === Ndp.NEIGHBOR_SOLICITATION ? NdpStatus.SOLICITATION : NdpStatus.ADVERTISEMENT);
}

function checkMessage(value: NeighborMessage): void {
  if (value.type !== Ndp.NEIGHBOR_SOLICITATION && value.type !== Ndp.NEIGHBOR_ADVERTISEMENT)
    throw new RangeError(`type must be 135 or 136, got ${String(value.type)}`);
  checkBytes(value.destinationMac, Ethernet.ADDRESS_LENGTH, 'destinationMac');
  checkBytes(value.sourceMac, Ethernet.ADDRESS_LENGTH, 'sourceMac');
  checkBytes(value.source, 16, 'source');
  checkBytes(value.destination, 16, 'destination');
  checkBytes(value.target, 16, 'target');
  if (value.linkLayer !== null) checkBytes(value.linkLayer, Ethernet.ADDRESS_LENGTH, 'linkLayer');
  if (!Number.isInteger(value.flags) || value.flags < 0 || value.flags > 0xff || (value.type === Ndp.NEIGHBOR_SOLICITATION && value.flags !== 0)) {
    throw new RangeError(`flags must be an octet, and 0 for a solicitation; got ${String(value.flags)}`);
  }
}

export function encodingLength(value: NeighborMessage): number {
  return NEIGHBOR_FRAME_LENGTH - (value.linkLayer === null ? Ndp.LINK_LAYER_OPTION_LENGTH : 0);
}

export function encode(value: NeighborMessage, buf: Uint8Array, offset = 0): number {
  checkMessage(value);
  checkRoom(buf, offset, encodingLength(value), 'neighbor message');
  return writeFrame(buf, offset, value);
}

const decodeView = new NdpView();

/** Decodes an NS or NA frame; throws GeneveDecodeError naming what inspectNeighborMessage found. */
export function decode(buf: Uint8Array, offset = 0, length?: number): NeighborMessage {
  const available = availableFrom(buf, offset, length);
  const status = inspectNeighborMessage(buf, offset, available, decodeView);
  if (status !== NdpStatus.SOLICITATION && status !== NdpStatus.ADVERTISEMENT) {
    throw new GeneveDecodeError(status === NdpStatus.TRUNCATED ? 'HEADER_TRUNCATED' : 'BAD_FIELD', offset, 'neighbor message', NDP_STATUS_NAMES[status]!);
  }
  const view = decodeView;
  return {
    type: view.type as NeighborMessage['type'],
    destinationMac: buf.slice(view.destinationMacOffset, view.destinationMacOffset + 6),
    sourceMac: buf.slice(view.sourceMacOffset, view.sourceMacOffset + 6),
    source: buf.slice(view.sourceOffset, view.sourceOffset + 16),
    destination: buf.slice(view.destinationOffset, view.destinationOffset + 16),
    target: buf.slice(view.targetOffset, view.targetOffset + 16),
    flags: view.flags,
    linkLayer: view.linkLayerOffset === -1 ? null : buf.slice(view.linkLayerOffset, view.linkLayerOffset + 6),
  };
}

/** The codec trio for NS and NA frames. */
export const neighborMessage: Codec<NeighborMessage> = { encodingLength, encode, decode };
