// The Geneve transport's slice of the configuration, `handoff.geneve` (docs/protocol/geneve-options.md),
// with its defaults, and what it asks of the rest: translated packets must leave room for its headers.

import { ConfigError, parseDuration, type ConfigReader } from '@nat64/service';
import { GENEVE_OVERHEAD, IMPL } from './constants.js';

/** The Geneve transport, used unless handoff.transport is 'handoff'. */
export interface GeneveConfig {
  /** Option Class of the mapping and authentication options (section 2); default 0xFF64. */
  optionClass: number;
  /** Key ID of handoff.key in the authentication option (section 4); the receivers' default is 1. */
  keyId: number;
  /** Data packets of a new mapping that carry its Created option (section 3.2). */
  createdPackets: number;
  /** A live mapping's option is repeated (Refresh) on its next packet this often (section 3.2). */
  refreshMs: number;
  /** Seed of the outer UDP source port hash (section 6.1). */
  flowHashSeed: number;
}

/** The most the transport writes in front of a translated packet, DF set (section 6). */
export { GENEVE_OVERHEAD };

/** Reads `handoff.geneve`; throws ConfigError naming the setting. */
export function readGeneveConfig(reader: ConfigReader): GeneveConfig {
  const geneve: GeneveConfig = {
    optionClass: reader.integer('optionClass', { min: 0, max: 0xffff, fallback: IMPL.OPTION_CLASS, hex: true }),
    keyId: reader.integer('keyId', { min: 0, max: 255, fallback: IMPL.KEY_ID }),
    createdPackets: reader.integer('createdPackets', { min: 1, max: 1000, fallback: IMPL.CREATED_PACKETS }),
    refreshMs: Math.round(parseDuration(reader.string('refresh', IMPL.REFRESH), reader.path('refresh'))),
    flowHashSeed: reader.integer('flowHashSeed', { min: 0, max: 0xffff_ffff, fallback: 0 }),
  };
  if (geneve.refreshMs < 1000) throw new ConfigError(reader.path('refresh'), 'must be at least 1s');
  reader.done();
  return geneve;
}
