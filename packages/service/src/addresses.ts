// Endpoint text as the connection log and the control socket show it; the addresses themselves are
// formatted by @nat64/wire (IPv4 as an unsigned 32-bit number, IPv6 as 16 bytes).
import { bytesToIpv6Text, uint32ToIpv4Text } from '@nat64/wire/address';

export function formatEndpoint4(address: number, port: number): string {
  return `${uint32ToIpv4Text(address)}:${port}`;
}

export function formatEndpoint6(bytes: Uint8Array, port: number, offset = 0): string {
  return `[${bytesToIpv6Text(bytes, offset)}]:${port}`;
}
