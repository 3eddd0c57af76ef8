// Reloading a running receiver's configuration (SIGHUP, after reopening the connection log, or the
// `reload` control command): the file is read again with the command line's flags over it,
// validated completely, and compared setting by setting with what runs. The log level, the gateways
// accepted (`allow`), their keys (`keys`, `key`, `keyFile`, read again) and `retention` change at
// once; everything else (sockets, database, connection log, authority, capacity, ...) is named as
// needing a restart and keeps running as it was. One log line says which is which; a configuration
// that does not validate changes nothing.
import { ConfigError, logReload, type Logger } from '@nat64/service';
import { addressFilter, keyLookup, type GatewayKeyLookup } from './access.js';
import { loadReceiverConfig, type RawSettings, type ReceiverConfig } from './config.js';
import { effectiveSettings, settingValues } from './effective.js';

export interface ReloadOutcome {
  ok: boolean;
  applied: string[];
  needsRestart: string[];
  error?: string;
}

/** The settings the running receiver reads through this object on every datagram, so a reload can swap them. */
export class ReceiverSettings {
  allows!: (address: string) => boolean;
  keyFor!: GatewayKeyLookup;
  retentionMs!: number;

  constructor(config: ReceiverConfig) {
    this.apply(config);
  }

  apply(config: ReceiverConfig): void {
    this.allows = addressFilter(config.allow);
    this.keyFor = keyLookup(config.keys);
    this.retentionMs = config.retentionMs;
  }
}

const RUNTIME: ReadonlySet<string> = new Set(['logLevel', 'allow', 'keys', 'retention']);

export class ReceiverReloader {
  private running: ReceiverConfig;

  constructor(
    private readonly source: { readonly file?: string | undefined; readonly flags: RawSettings },
    initial: ReceiverConfig,
    private readonly settings: ReceiverSettings,
    private readonly logger: Logger,
  ) {
    this.running = initial;
  }

  /** Reads, validates, applies; logs one line and returns what it did. Never throws. */
  reload(trigger: 'SIGHUP' | 'control'): ReloadOutcome {
    let next: ReceiverConfig;
    try {
      next = loadReceiverConfig({ ...(this.source.file === undefined ? {} : { file: this.source.file }), flags: this.source.flags });
    } catch (error) {
      const message = error instanceof ConfigError ? error.message : String(error);
      this.logger.error({ trigger, file: this.source.file, error: message }, `reload refused, the running configuration stays: ${message}`);
      return { ok: false, applied: [], needsRestart: [], error: message };
    }
    const before = settingValues(effectiveSettings(this.running, 'digest'));
    const after = settingValues(effectiveSettings(next, 'digest'));
    const changed = [...after.keys()].filter((name) => before.get(name) !== after.get(name));
    const applied = changed.filter((name) => RUNTIME.has(name));
    const needsRestart = changed.filter((name) => !RUNTIME.has(name));
    const shown = [settingValues(effectiveSettings(this.running)), settingValues(effectiveSettings(next))] as const;
    const changes = Object.fromEntries(
      changed.map((name) => [name, { from: JSON.parse(shown[0].get(name)!) as unknown, to: JSON.parse(shown[1].get(name)!) as unknown }]),
    );
    this.running = { ...this.running, logLevel: next.logLevel, allow: next.allow, keys: next.keys, retentionMs: next.retentionMs };
    this.settings.apply(this.running);
    this.logger.level = next.logLevel;
    logReload(this.logger, { trigger, file: this.source.file, applied, needsRestart, changes }, applied, needsRestart);
    return { ok: true, applied, needsRestart };
  }
}
