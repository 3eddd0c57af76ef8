// The wire toolkit every protocol package shares: big-endian fields, the Internet checksum and its
// pseudo-headers, address text, the codec shape, the well-known ports and the IP protocol numbers.
export { copyBytes, readU16, readU32, readU64, writeU16, writeU32, writeU64, zeroBytes } from './bytes.js';
export {
  finishChecksum,
  finishUdpChecksum,
  foldSum,
  internetChecksum,
  pseudoHeaderSum4,
  pseudoHeaderSum6,
  sumIpv4Address,
  sumIpv6Address,
  sumWords,
  updateChecksum,
  verifyChecksum,
} from './checksum.js';
export { bytesToIpv6Text, ipv4TextToUint32, ipv6TextIntoBytes, ipv6TextToBytes, uint32ToIpv4Text } from './address.js';
export { codeNames, type ValueOf } from './codes.js';
export type { Codec } from './codec.js';
export { GENEVE_PORT, HANDOFF_PORT } from './ports.js';
export { IpProto } from './protocols.js';
