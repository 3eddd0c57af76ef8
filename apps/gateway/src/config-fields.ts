// Parsers for the gateway's composite settings: the RFC 6052 prefix, pool4 entries with port ranges
// per protocol, static BIB entries and endpoints. Each error names the setting it is about.
import ipaddr from 'ipaddr.js';
import type { Pool4Entry, PortRange, Protocol, StaticBibEntry } from '@nat64/gateway-engine';
import { ConfigError, ConfigReader } from '@nat64/service';
import { ipv4TextToUint32, ipv6TextToBytes } from '@nat64/wire';

export type { Pool4Entry, Protocol, StaticBibEntry } from '@nat64/gateway-engine';
export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'icmp'];

export interface PrefixSetting {
  bytes: Uint8Array;
  length: number;
  text: string;
}

/** RFC 6052 2.2: the prefix lengths an IPv4-embedded address may use. */
const ALLOWED_PREFIX_LENGTHS = [32, 40, 48, 56, 64, 96];
/** Our defaults: ports 1-1023 stay free for static BIB entries; ICMP identifiers may all be used. */
const DEFAULT_PORTS: Record<Protocol, string> = { tcp: '1024-65535', udp: '1024-65535', icmp: '0-65535' };

export function parsePrefix(text: string, where: string): PrefixSetting {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(text);
  } catch {
    throw new ConfigError(where, `"${text}" is not an IPv6 prefix such as 64:ff9b::/96`);
  }
  const [address, length] = parsed;
  if (address.kind() !== 'ipv6') throw new ConfigError(where, 'must be an IPv6 prefix');
  if (!ALLOWED_PREFIX_LENGTHS.includes(length)) {
    throw new ConfigError(where, `length /${length} is not allowed by RFC 6052; use /32, /40, /48, /56, /64 or /96`);
  }
  const bytes = Uint8Array.from(address.toByteArray());
  for (let bit = length; bit < 128; bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) throw new ConfigError(where, `has bits set beyond /${length}`);
  }
  if (bytes[8] !== 0) throw new ConfigError(where, 'bits 64-71 must be zero (RFC 6052 section 2.2)');
  return { bytes, length, text: `${address.toString()}/${length}` };
}

/** A pool4 entry: "198.51.100.1", or { address, tcp?, udp?, icmp? } with ranges such as "1024-65535". */
export function parsePool4(value: unknown, where: string): Pool4Entry {
  const reader = typeof value === 'string' ? new ConfigReader({ address: value }, where) : new ConfigReader(value, where);
  const address = parseIpv4Address(reader.string('address'), `${where}.address`);
  const ports = Object.fromEntries(
    PROTOCOLS.map((protocol) => [protocol, parsePortRange(reader.string(protocol, DEFAULT_PORTS[protocol]), `${where}.${protocol}`, protocol)]),
  ) as Record<Protocol, PortRange>;
  reader.done();
  return { address, ports };
}

function parsePortRange(text: string, where: string, protocol: Protocol): PortRange {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!match) throw new ConfigError(where, `"${text}" is not a port range such as 1024-65535`);
  const first = Number(match[1]);
  const last = Number(match[2] ?? match[1]);
  const lowest = protocol === 'icmp' ? 0 : 1;
  if (first < lowest || last > 65535 || first > last) throw new ConfigError(where, `"${text}" must lie within ${lowest}-65535, lowest first`);
  return { first, last };
}

/** { protocol, ipv6: "[2001:db8::5]:80", ipv4: "198.51.100.1:80" }; the IPv4 side must be a pool4 address. */
export function parseStaticBib(value: unknown, where: string, pool4: readonly Pool4Entry[], reservedUdp: readonly number[]): StaticBibEntry {
  const reader = new ConfigReader(value, where);
  const protocol = reader.oneOf('protocol', PROTOCOLS, 'tcp');
  const [ipv6Text, ipv6Port] = splitEndpoint(reader.string('ipv6'), `${where}.ipv6`, true);
  const [ipv4Text, ipv4Port] = splitEndpoint(reader.string('ipv4'), `${where}.ipv4`, false);
  reader.done();
  const ipv4 = parseIpv4Address(ipv4Text, `${where}.ipv4`);
  if (!pool4.some((entry) => entry.address === ipv4)) throw new ConfigError(`${where}.ipv4`, `${ipv4Text} is not a pool4 address`);
  if (protocol === 'udp' && reservedUdp.includes(ipv4Port)) {
    throw new ConfigError(`${where}.ipv4`, `UDP port ${ipv4Port} is reserved for the gateway itself (handoff, Geneve)`);
  }
  return { protocol, ipv6: parseIpv6Address(ipv6Text, `${where}.ipv6`), ipv6Port, ipv4, ipv4Port };
}

/** "[2001:db8::5]:2000" or "192.0.2.2:2000"; for ICMP the "port" is the query identifier. */
function splitEndpoint(text: string, where: string, ipv6: boolean): [string, number] {
  const match = ipv6 ? /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text) : /^([0-9.]+):(\d{1,5})$/.exec(text);
  if (!match || Number(match[2]) > 65535) {
    throw new ConfigError(where, `"${text}" is not an endpoint such as ${ipv6 ? '[2001:db8::5]:2000' : '192.0.2.2:2000'}`);
  }
  return [match[1]!, Number(match[2])];
}

/** A dotted quad (no octal, no shorthand) as an unsigned 32-bit number. */
export function parseIpv4Address(text: string, where: string): number {
  const address = ipv4TextToUint32(text);
  if (address < 0) throw new ConfigError(where, `"${text}" is not an IPv4 address`);
  return address;
}

/** IPv6 text (RFC 4291 2.2, no zone) as 16 bytes. */
export function parseIpv6Address(text: string, where: string): Uint8Array {
  const address = ipv6TextToBytes(text);
  if (address === null) throw new ConfigError(where, `"${text}" is not an IPv6 address`);
  return address;
}
