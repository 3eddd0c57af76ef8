// Which gateways a receiver accepts (`allow`) and which key each must authenticate with (`keys`),
// as lookups by source address, cached, that a reload replaces as a whole (reload.ts).
import ipaddr from 'ipaddr.js';
import type { ReceiverConfig } from './config.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

export type GatewayKeyLookup = (address: string) => { keyId: number; secret: Uint8Array } | undefined;

export function addressFilter(ranges: Range[]): (address: string) => boolean {
  if (ranges.length === 0) return () => true;
  const verdicts = new Map<string, boolean>();
  return (address) => {
    let verdict = verdicts.get(address);
    if (verdict === undefined) {
      verdict = matchesAny(address, ranges);
      if (verdicts.size > 65_536) verdicts.clear();
      verdicts.set(address, verdict);
    }
    return verdict;
  };
}

export function keyLookup(keys: ReceiverConfig['keys']): GatewayKeyLookup {
  if (keys.length === 0) return () => undefined;
  // The most specific range wins.
  const sorted = [...keys].sort((a, b) => b.range[1] - a.range[1]);
  const found = new Map<string, { keyId: number; secret: Uint8Array } | undefined>();
  return (address) => {
    if (found.has(address)) return found.get(address);
    const entry = sorted.find((candidate) => matchesAny(address, [candidate.range]));
    const key = entry ? { keyId: entry.keyId, secret: entry.key } : undefined;
    if (found.size > 65_536) found.clear();
    found.set(address, key);
    return key;
  };
}

function matchesAny(address: string, ranges: Range[]): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return false;
  }
  return ranges.some(([network, bits]) => parsed.kind() === network.kind() && parsed.match(network, bits));
}
