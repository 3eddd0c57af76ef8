// @nat64/xlat: stateless IPv6/IPv4 header translation (RFC 7915) and IPv4-embedded IPv6
// addresses (RFC 6052), built for a packet path that parses once, allocates nothing per packet
// and never throws per packet.

export { PacketBatch, type PacketBatchOptions } from './batch.js';
export { Defaults, type IcmpRateLimit, type TranslatorConfig } from './config.js';
export { FieldOffset, HeaderSize, Icmp4Type, Icmp4UnreachCode, Icmp6ParamCode, Icmp6Type, Icmp6UnreachCode, IpProto } from './constants.js';
export { XlatError } from './errors.js';
export { FragmentFault, fragmentFaultPointer, ipv6FragmentFault, isMartianIpv4, isMartianIpv6Source } from './martians.js';
export { Mapping46, Mapping64, XlatFlags } from './mapping.js';
export { ParseStatus, parseIpv4, parseIpv6 } from './parse.js';
export { DROP_REASONS, DROP_REASON_COUNT, DropReason, Verdict, dropReasonName } from './reasons.js';
export { RFC6052_LENGTHS, Rfc6052Prefix, WELL_KNOWN_PREFIX_TEXT, isNonGlobalIpv4, type Rfc6052Length } from './rfc6052.js';
export { Translator } from './translator.js';
export { Ipv4View, Ipv6View } from './view.js';
