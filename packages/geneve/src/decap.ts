// The packet-path decoder: checks one Geneve UDP payload, fills a reusable GeneveView and returns
// a DecapStatus. It never throws and never allocates (except inside node:crypto when it verifies
// a tag). Every accept/drop decision of the receive side is made here, in this order: structure
// (RFC 8926 §3.4, §3.5), options, VNI, Protocol Type, inner header, then authentication, so that
// garbage is rejected before the costly HMAC.
//
// The C bit is never consulted. RFC 8926 §3.4 has an endpoint that does not parse options drop
// packets with C set; we always parse every option, so C carries nothing we do not learn from the
// options themselves. Trusting a clear C to skip parsing would let a mis-flagged critical option
// through, which §3.5 forbids; refusing a set C without critical options would drop packets we
// fully understand. So both mismatches are accepted, and the view reports criticalFlag and
// criticalOptions for anyone who wants to count them.
import type { KeyObject } from 'node:crypto';
import { readU16 } from '@nat64/wire';
import { importAuthKey, verifyTag } from './auth.js';
import { TWO_POW_32, checkUint } from './bytes.js';
import { CONTROL_PROTOCOL_TYPE, DEFAULT_OPTION_CLASS, Geneve, GeneveBits, MAX_SAFE_HIGH_WORD } from './constants.js';
import { OptionSize, OptionType, ProtocolType, Underlay } from './constants.js';
import { MappingField, isMappingEvent } from './mapping.js';
import { DecapStatus } from './status.js';
import { HeaderBounds, OptionFields, beginDecode, fail, readOption } from './structure.js';
import type { GeneveView } from './view.js';

export interface ReceivePolicyConfig {
  /** Option Class of our options (default 0xFF64). */
  optionClass?: number;
  /** Accept only this VNI; any VNI when absent. */
  vni?: number;
  /** Shared secrets by Key ID. When present, every packet must carry a valid auth option. */
  authKeys?: ReadonlyMap<number, Uint8Array>;
}

/** A validated, prepared configuration for decapsulate(); build it once per peer or socket. */
export interface ReceivePolicy {
  readonly optionClass: number;
  /** -1 for any VNI. */
  readonly vni: number;
  /** Indexed by Key ID; null when authentication is not required. */
  readonly keys: readonly (KeyObject | undefined)[] | null;
}

export function createReceivePolicy(config: ReceivePolicyConfig = {}): ReceivePolicy {
  const optionClass = config.optionClass ?? DEFAULT_OPTION_CLASS;
  checkUint(optionClass, 0xffff, 'optionClass');
  const vni = config.vni ?? -1;
  if (vni !== -1) checkUint(vni, Geneve.MAX_VNI, 'vni');
  let keys: (KeyObject | undefined)[] | null = null;
  if (config.authKeys !== undefined) {
    keys = new Array<KeyObject | undefined>(256).fill(undefined);
    for (const [keyId, secret] of config.authKeys) {
      checkUint(keyId, 0xff, 'key id');
      keys[keyId] = importAuthKey(secret);
    }
  }
  return { optionClass, vni, keys };
}

const BOUNDS = new HeaderBounds();
const OPTION = new OptionFields();

/**
 * Decodes the Geneve packet in buf[offset, offset + length) (a UDP payload) into `view` and
 * decides what to do with it. Never throws, whatever the bytes.
 */
export function decapsulate(buf: Uint8Array, offset: number, length: number, view: GeneveView, policy: ReceivePolicy): DecapStatus {
  if (!beginDecode(buf, offset, length, view, BOUNDS)) return view.status;
  const { optionsStart, optionsEnd, end } = BOUNDS;
  view.oam = (view.flags & GeneveBits.OAM) !== 0;
  view.criticalFlag = (view.flags & GeneveBits.CRITICAL) !== 0;
  view.optionsOffset = optionsStart;
  view.optionsLength = optionsEnd - optionsStart;
  view.payloadOffset = optionsEnd;
  view.payloadLength = end - optionsEnd;

  // Structure errors end the walk at once; a semantic drop is remembered and returned after the
  // walk, so a packet whose lengths do not add up is always reported as such.
  let pending: DecapStatus = DecapStatus.DATA;
  let pendingAt = -1;
  let at = optionsStart;
  while (at < optionsEnd) {
    const next = readOption(buf, at, optionsEnd, view, OPTION);
    if (next < 0) return fail(view, DecapStatus.OPTION_OVERRUN, at + 3);
    const ours = OPTION.optionClass === policy.optionClass;
    let problem: DecapStatus = DecapStatus.DATA;
    if (ours && OPTION.type === OptionType.MAPPING) {
      problem = view.hasMapping ? DecapStatus.DUPLICATE_OPTION : readMapping(buf, OPTION.dataStart, OPTION.dataLength, view);
    } else if (ours && OPTION.type === OptionType.AUTH) {
      problem = view.hasAuth ? DecapStatus.DUPLICATE_OPTION : readAuth(buf, OPTION.dataStart, OPTION.dataLength, view);
    } else if (OPTION.critical) {
      problem = DecapStatus.UNKNOWN_CRITICAL;
    } else {
      view.skippedOptions++;
    }
    if (problem !== DecapStatus.DATA && pending === DecapStatus.DATA) {
      pending = problem;
      pendingAt = at;
    }
    at = next;
  }
  if (pending !== DecapStatus.DATA) return fail(view, pending, pendingAt);

  if (policy.vni !== -1 && view.vni !== policy.vni) return fail(view, DecapStatus.VNI_MISMATCH, offset + 4);
  if (view.oam) {
    if (view.protocolType !== CONTROL_PROTOCOL_TYPE) return fail(view, DecapStatus.BAD_PROTOCOL, offset + 2);
  } else {
    if (view.protocolType !== ProtocolType.IPV4) return fail(view, DecapStatus.BAD_PROTOCOL, offset + 2);
    if (view.payloadLength < Underlay.IPV4_HEADER_LENGTH || buf[optionsEnd]! >>> 4 !== 4) {
      return fail(view, DecapStatus.BAD_INNER, optionsEnd);
    }
  }
  if (policy.keys !== null) {
    if (!view.hasAuth) return fail(view, DecapStatus.AUTH_MISSING, optionsStart);
    const key = policy.keys[view.authKeyId];
    if (key === undefined) return fail(view, DecapStatus.AUTH_UNKNOWN_KEY, view.authTagOffset - OptionSize.AUTH_TAG_OFFSET);
    if (!verifyTag(key, buf, offset, end, view.authTagOffset)) return fail(view, DecapStatus.AUTH_FAILED, view.authTagOffset);
  }
  view.status = view.oam ? DecapStatus.CONTROL : DecapStatus.DATA;
  return view.status;
}

function readMapping(buf: Uint8Array, at: number, length: number, view: GeneveView): DecapStatus {
  if (length < OptionSize.MAPPING_DATA) return DecapStatus.MALFORMED_OPTION;
  const event = buf[at + MappingField.EVENT]!;
  const time = at + MappingField.CREATION_TIME;
  // The high word is below 2^21 when accepted, so it is a small integer either way.
  const timeHigh = (buf[time]! << 24) | (buf[time + 1]! << 16) | (buf[time + 2]! << 8) | buf[time + 3]!;
  if (!isMappingEvent(event) || timeHigh < 0 || timeHigh > MAX_SAFE_HIGH_WORD) return DecapStatus.MALFORMED_OPTION;
  view.hasMapping = true;
  view.protocol = buf[at + MappingField.PROTOCOL]!;
  view.event = event;
  // Fields that can exceed 2^31 are assembled here rather than returned from a helper, so V8
  // stores the double straight into the view's field without allocating.
  const nat = at + MappingField.NAT_ADDRESS;
  view.natAddress = ((buf[nat]! << 24) | (buf[nat + 1]! << 16) | (buf[nat + 2]! << 8) | buf[nat + 3]!) >>> 0;
  view.natPort = readU16(buf, at + MappingField.NAT_PORT);
  view.clientPort = readU16(buf, at + MappingField.CLIENT_PORT);
  view.clientAddressOffset = at + MappingField.CLIENT_ADDRESS;
  view.creationTimeUs = timeHigh * TWO_POW_32 + (((buf[time + 4]! << 24) | (buf[time + 5]! << 16) | (buf[time + 6]! << 8) | buf[time + 7]!) >>> 0);
  return DecapStatus.DATA;
}

function readAuth(buf: Uint8Array, at: number, length: number, view: GeneveView): DecapStatus {
  if (length < OptionSize.AUTH_DATA) return DecapStatus.MALFORMED_OPTION;
  view.hasAuth = true;
  view.authKeyId = buf[at]!;
  view.authTagOffset = at + OptionSize.AUTH_TAG_OFFSET;
  return DecapStatus.DATA;
}
