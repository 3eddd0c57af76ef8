// Conformance: replays Jool's 78 RFC 7915 graybox cases (../shared/testdata) through
// parse -> test-only SIIT mapper -> translator -> graybox comparison, one `it` per case.

import { compareExchange, loadSuite, missingSuiteNote, type GrayboxCase, type GrayboxSuite } from '@nat64/graybox';
import {
  Ipv4View,
  Ipv6View,
  Mapping46,
  Mapping64,
  PacketBatch,
  ParseStatus,
  Translator,
  Verdict,
  XlatFlags,
  dropReasonName,
  parseIpv4,
  parseIpv6,
  type TranslatorConfig,
} from '@nat64/xlat';
import { describe, expect, it } from 'vitest';
import { SiitMapper } from './siit-mapper.js';

const FILE = 'jool-graybox-siit7915.json';
const suite = loadSuite(FILE);
if (suite === undefined) console.log(missingSuiteNote(FILE));

/** Cases that cannot pass against a translator alone, with the reason (none so far). */
const SKIPPED: Readonly<Record<string, string>> = {};

interface SuiteConfig {
  readonly pool6: string;
  readonly eamt: { ipv6Prefix: string; ipv4Prefix: string }[];
  readonly translatorAddresses: { ipv6: string; ipv4: string };
}

function withoutLength(text: string): string {
  return text.split('/')[0]!;
}

function translatorFor(s: GrayboxSuite, c: GrayboxCase): Translator {
  const config = s.config as unknown as SuiteConfig;
  const globals = c.preconditions.settings.globals;
  const mtus = c.preconditions.settings.linkMtu;
  const settings: TranslatorConfig = {
    ipv6Address: withoutLength(config.translatorAddresses.ipv6),
    ipv4Address: withoutLength(config.translatorAddresses.ipv4),
    lowestIpv6Mtu: Number(globals['lowest-ipv6-mtu'] ?? 1280),
    amendUdpChecksumZero: globals['amend-udp-checksum-zero'] === true,
    ipv6NextHopMtu: mtus['translatorIpv6Side'] ?? 1500,
    ipv4NextHopMtu: mtus['translatorIpv4Side'] ?? 1500,
  };
  return new Translator(settings);
}

/** Feeds the case's inputs through the translator; returns what it emitted and why it dropped. */
function run(s: GrayboxSuite, c: GrayboxCase): { packets: Uint8Array[]; notes: string[] } {
  const config = s.config as unknown as SuiteConfig;
  const mapper = new SiitMapper(config.pool6, config.eamt);
  const translator = translatorFor(s, c);
  const out = new PacketBatch({ capacity: 8, maxPacketSize: 4096 });
  const hairpinned = new PacketBatch({ capacity: 8, maxPacketSize: 4096 });
  const v6 = new Ipv6View();
  const v4 = new Ipv4View();
  const m64 = new Mapping64();
  const m46 = new Mapping46();
  const notes: string[] = [];
  for (const input of c.inputs) {
    if (input[0]! >> 4 === 6) {
      const status = parseIpv6(input, 0, input.length, v6);
      if (status !== ParseStatus.ok) {
        notes.push(`parse: ${dropReasonName(status)}`);
        continue;
      }
      if (!mapper.map64(v6, m64)) {
        notes.push('no address mapping');
        continue;
      }
      if (!mapper.isHairpin(m64.dst)) {
        const verdict = translator.toIpv4(v6, m64, out);
        if (verdict !== Verdict.forward) notes.push(`toIpv4: verdict ${verdict}, ${dropReasonName(translator.reason)}`);
        continue;
      }
      // RFC 7757 intrinsic hairpinning: translate to IPv4, then straight back to IPv6.
      hairpinned.reset();
      const first = translator.toIpv4(v6, m64, hairpinned, XlatFlags.hairpin);
      for (let i = 0; i < hairpinned.count; i++) {
        const packet = hairpinned.packet(i);
        if (first !== Verdict.forward || parseIpv4(packet, 0, packet.length, v4) !== ParseStatus.ok) {
          out.buffer.set(packet, out.reserve());
          out.commit(packet.length);
          continue;
        }
        mapper.map46(v4, m46, true);
        const verdict = translator.toIpv6(v4, m46, out, XlatFlags.hairpin);
        if (verdict !== Verdict.forward) notes.push(`hairpin toIpv6: ${dropReasonName(translator.reason)}`);
      }
    } else {
      const status = parseIpv4(input, 0, input.length, v4);
      if (status !== ParseStatus.ok) {
        notes.push(`parse: ${dropReasonName(status)}`);
        continue;
      }
      mapper.map46(v4, m46);
      const verdict = translator.toIpv6(v4, m46, out);
      if (verdict !== Verdict.forward) notes.push(`toIpv6: verdict ${verdict}, ${dropReasonName(translator.reason)}`);
    }
  }
  const packets: Uint8Array[] = [];
  for (let i = 0; i < out.count; i++) packets.push(out.packet(i).slice());
  return { packets, notes };
}

describe.skipIf(suite === undefined)('siit7915 conformance (Jool graybox)', () => {
  const s = suite!;
  for (const c of s?.cases ?? []) {
    const skip = SKIPPED[c.id] ?? (c.timing !== null ? `needs real waits: ${c.timing}` : c.peerAction !== null ? 'needs a peer to answer' : undefined);
    if (skip !== undefined) {
      it.skip(`${c.id} (${skip})`, () => {});
      continue;
    }
    it(c.id, () => {
      const { packets, notes } = run(s, c);
      const result = compareExchange(c.expected, packets);
      const context = `${c.id}: ${c.description}\n${notes.join('\n')}\n${result.text}`;
      expect(result.ok, context).toBe(true);
      // Stricter than Graybox: nothing beyond the expected packets may come out.
      expect(result.ignored, context).toEqual([]);
    });
  }
});
