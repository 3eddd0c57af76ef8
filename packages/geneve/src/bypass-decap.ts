// The packet-path decoder of NAT64 bypass (bypass §7): checks one Geneve UDP payload, fills a
// reusable BypassView and returns a BypassStatus. Never throws, never allocates. Checks run in
// this order: structure (RFC 8926 §3.4, §3.5), options, VNI, audit mirror, O bit, Protocol Type,
// inner frame, then the direction rule for the bypass option.
import { readU16 } from '@nat64/wire';
import { Bypass, Ethernet, Geneve, GeneveBits, ProtocolType } from './constants.js';
import { messageLength } from './bypass-option.js';
import { BypassStatus } from './bypass-status.js';
import { DecodeView, HeaderBounds, OptionFields, beginDecode, fail, readOption } from './structure.js';

/** Which end receives: the server accepts the bypass option, the gateway drops packets with it. */
export type BypassDirection = 'to-server' | 'to-gateway';

export interface BypassPolicy {
  /** Accept only this VNI; -1 for any (a server hearing an offer from a new gateway). */
  vni: number;
  direction: BypassDirection;
}

/** The header fields of DecodeView, and the bypass options and inner frame; after a drop trust only status and failOffset. */
export class BypassView extends DecodeView<BypassStatus> {
  hasBypassOption = false;
  /** The bypass option's message in `buf` (UTF-8, padding excluded). */
  messageOffset = 0;
  messageLength = 0;
  auditMirror = false;
  auditMessageOffset = 0;
  auditMessageLength = 0;
  /** The inner Ethernet frame. */
  frameOffset = 0;
  frameLength = 0;

  override reset(buf: Uint8Array, start: number): void {
    super.reset(buf, start);
    this.hasBypassOption = false;
    this.messageOffset = 0;
    this.messageLength = 0;
    this.auditMirror = false;
    this.auditMessageOffset = 0;
    this.auditMessageLength = 0;
    this.frameOffset = start;
    this.frameLength = 0;
  }
}

const BOUNDS = new HeaderBounds();
const OPTION = new OptionFields();

/** Whether a Geneve packet belongs to bypass: Protocol Type Ethernet or an option of class 0x0162. */
export function isBypassPacket(buf: Uint8Array, offset: number, length: number): boolean {
  if (offset + length > buf.length) length = buf.length - offset;
  if (length < Geneve.HEADER_LENGTH) return false;
  if (readU16(buf, offset + 2) === ProtocolType.TRANSPARENT_ETHERNET_BRIDGING) return true;
  const optionsEnd = Math.min(offset + length, offset + Geneve.HEADER_LENGTH + (buf[offset]! & GeneveBits.OPT_LEN_MASK) * Geneve.WORD);
  for (
    let at = offset + Geneve.HEADER_LENGTH;
    at + Geneve.OPTION_HEADER_LENGTH <= optionsEnd;
    at += Geneve.OPTION_HEADER_LENGTH + (buf[at + 3]! & GeneveBits.OPTION_LENGTH_MASK) * Geneve.WORD
  ) {
    if (readU16(buf, at) === Bypass.OPTION_CLASS) return true;
  }
  return false;
}

/** Decodes buf[offset, offset + length) (a UDP payload) into `view` and decides. */
export function decapsulateBypass(buf: Uint8Array, offset: number, length: number, view: BypassView, policy: BypassPolicy): BypassStatus {
  if (!beginDecode(buf, offset, length, view, BOUNDS)) return view.status;
  const { optionsStart, optionsEnd, end } = BOUNDS;
  view.frameOffset = optionsEnd;
  view.frameLength = end - optionsEnd;

  let unknownCriticalAt = -1;
  let at = optionsStart;
  while (at < optionsEnd) {
    const next = readOption(buf, at, optionsEnd, view, OPTION);
    if (next < 0) return fail(view, BypassStatus.OPTION_OVERRUN, at + 3);
    const { type, critical, dataStart, dataLength } = OPTION;
    const ours = OPTION.optionClass === Bypass.OPTION_CLASS;
    if (ours && type === Bypass.OPTION_TYPE && !view.hasBypassOption) {
      view.hasBypassOption = true;
      view.messageOffset = dataStart;
      view.messageLength = messageLength(buf, dataStart, dataLength);
    } else if (ours && type === Bypass.AUDIT_MIRROR_TYPE && !view.auditMirror) {
      view.auditMirror = true;
      view.auditMessageOffset = dataStart;
      view.auditMessageLength = messageLength(buf, dataStart, dataLength);
    } else if (critical && !(ours && type === Bypass.AUDIT_MIRROR_TYPE)) {
      if (unknownCriticalAt === -1) unknownCriticalAt = at;
    } else {
      view.skippedOptions++;
    }
    at = next;
  }
  if (unknownCriticalAt !== -1) return fail(view, BypassStatus.UNKNOWN_CRITICAL, unknownCriticalAt);
  if (policy.vni !== -1 && view.vni !== policy.vni) return fail(view, BypassStatus.VNI_MISMATCH, offset + 4);
  if (view.auditMirror) return fail(view, BypassStatus.AUDIT_MIRROR, view.auditMessageOffset - Geneve.OPTION_HEADER_LENGTH);
  if ((view.flags & GeneveBits.OAM) !== 0) return fail(view, BypassStatus.OAM, offset + 1);
  if (view.protocolType !== ProtocolType.TRANSPARENT_ETHERNET_BRIDGING) return fail(view, BypassStatus.BAD_PROTOCOL, offset + 2);
  if (view.frameLength < Ethernet.HEADER_LENGTH || readU16(buf, optionsEnd + Ethernet.TYPE_OFFSET) !== Ethernet.ETHERTYPE_IPV6) {
    return fail(view, BypassStatus.BAD_INNER, optionsEnd);
  }
  if (policy.direction === 'to-gateway' && view.hasBypassOption) {
    return fail(view, BypassStatus.OPTION_FROM_SERVER, view.messageOffset - Geneve.OPTION_HEADER_LENGTH);
  }
  view.status = BypassStatus.FRAME;
  return BypassStatus.FRAME;
}
