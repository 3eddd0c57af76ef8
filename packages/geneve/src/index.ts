// Geneve (RFC 8926) for NAT64 handoff: the header codec, our mapping and authentication options
// (docs/protocol/geneve-options.md), the packet-path decoder for receivers and zero-copy
// encapsulation for gateways.
export {
  CONTROL_PROTOCOL_TYPE,
  DEFAULT_OPTION_CLASS,
  Geneve,
  MappingEvent,
  OptionType,
  ProtocolType,
} from './constants.js';
export type { Codec } from './codec.js';
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
export { flowHash, sourcePortFromHash } from './flow-hash.js';
export { GeneveWriter } from './writer.js';
export type { GeneveWriterConfig } from './writer.js';
export { Ipv4Encapsulator, Ipv6Encapsulator } from './encap.js';
export type { Ipv4EncapsulatorConfig, Ipv6EncapsulatorConfig } from './encap.js';
