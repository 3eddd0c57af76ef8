// Geneve (RFC 8926) for NAT64 handoff: the header codec, our mapping and authentication options
// (docs/protocol/geneve-options.md), the packet-path decoder for receivers and zero-copy
// encapsulation for gateways.
export {
  CONTROL_PROTOCOL_TYPE,
  DEFAULT_OPTION_CLASS,
  Geneve,
  MappingEvent,
  OptionClassRange,
  OptionType,
  ProtocolType,
} from './constants.js';
export type { Codec } from '@nat64/wire';
export { GeneveDecodeError } from './errors.js';
export type { GeneveDecodeErrorCode } from './errors.js';
export { geneveHeader } from './header.js';
export type { GeneveHeader, GeneveOption } from './header.js';
export { mappingOption } from './mapping.js';
export type { MappingOption } from './mapping.js';
export { authOption } from './auth.js';
export type { AuthOption } from './auth.js';
export { DecapStatus, DECAP_STATUS_COUNT, DECAP_STATUS_NAMES, isDrop } from './status.js';
export { GeneveView } from './view.js';
export { createReceivePolicy, decapsulate } from './decap.js';
export type { ReceivePolicy, ReceivePolicyConfig } from './decap.js';
export { flowHash, flowHash6, sourcePortFromHash } from './flow-hash.js';
export { GeneveWriter } from './writer.js';
export type { GeneveWriterConfig } from './writer.js';
export { Ipv4Encapsulator, Ipv6Encapsulator } from './encap.js';
export type { Ipv4EncapsulatorConfig, Ipv6EncapsulatorConfig } from './encap.js';
// NAT64 bypass (docs/protocol/nat64-bypass.md): its options, Ethernet framing, identifiers,
// neighbor discovery frames, and the packet-path decoder and encapsulator.
export { Bypass, Ethernet, Ndp } from './constants.js';
export { bypassOption, auditMirrorOption, encodeMessage } from './bypass-option.js';
export type { BypassOption } from './bypass-option.js';
export { ethernetHeader, formatMac, isLocalUnicastMac, macEquals, parseMac, readEtherType, writeEthernetHeader } from './ethernet.js';
export type { EthernetHeader } from './ethernet.js';
export { deriveGatewayMac, deriveVni, DeriveLabel } from './bypass-derive.js';
export {
  NDP_STATUS_NAMES,
  NEIGHBOR_FRAME_LENGTH,
  NdpStatus,
  NdpView,
  icmpv6Checksum,
  inspectNeighborMessage,
  neighborMessage,
  writeNeighborAdvertisement,
  writeNeighborSolicitation,
} from './ndp.js';
export type { AdvertisementParams, NeighborMessage, SolicitationParams } from './ndp.js';
export { BYPASS_STATUS_COUNT, BYPASS_STATUS_NAMES, BypassStatus, isBypassDrop } from './bypass-status.js';
export { BypassView, decapsulateBypass, isBypassPacket } from './bypass-decap.js';
export type { BypassDirection, BypassPolicy } from './bypass-decap.js';
export { BypassEncapsulator, BypassIpv4Encapsulator } from './bypass-encap.js';
export type { BypassEncapsulatorConfig, BypassIpv4EncapsulatorConfig } from './bypass-encap.js';
