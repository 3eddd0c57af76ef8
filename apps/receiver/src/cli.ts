// nat64-receiver, every command but a bare `lookup` (see main.ts): the composition root. Parses the
// command line, loads and validates the whole configuration, then runs the daemon or answers an
// admin's question, and exits with a code that says what went wrong (sysexits.h).
import { Command, Option } from 'commander';
import { ServiceNotifier } from '@nat64/sd-notify';
import {
  callControl,
  ConfigError,
  ControlError,
  createLogger,
  ExitCode,
  FatalError,
  hintHelpAfterErrors,
  onReopenSignal,
  packageVersion,
  prepareControlPath,
  prepareDirectoryFor,
  waitForShutdown,
  type Logger,
  type ShutdownSignal,
} from '@nat64/service';
import { DEFAULTS, HANDOFF_PORT, loadReceiverConfig, type RawSettings, type ReceiverConfig } from './config.js';
import { startReceiver } from './daemon.js';
import { effectiveSettings } from './effective.js';
import { ReceiverReloader, ReceiverSettings, type ReloadOutcome } from './reload.js';
import { dumpEntries, dumpFilter, dumpLines } from './dump.js';
import { lookupCommand } from './lookup-command.js';
import { lookupExitCode } from './lookup-run.js';
import { entryJson, PROTOCOL_NUMBERS } from './queries.js';

/** Mode of the directories made for the database and the connection log. */
const DIRECTORY_MODE = 0o750;

/** The run command's flags as configuration settings; unset flags leave the file's value (or the default). */
function settingsFromFlags(options: Record<string, unknown>): RawSettings {
  return {
    listen: options.listen,
    port: options.port,
    transport: options.transport,
    genevePort: options.genevePort,
    geneveTun: options.geneveTun,
    bypassPrefixes: options.bypassPrefix,
    bypassTap: options.bypassTap,
    bypassMtu: options.bypassMtu,
    bypassMaxTunnels: options.bypassMaxTunnels,
    bypassCoalesce: options.bypassCoalesce === false ? false : undefined,
    database: options.db,
    durability: options.durability,
    connectionLog: options.connLog,
    timeZone: options.localTime ? 'local' : undefined,
    allow: options.allow,
    key: options.key,
    keyFile: options.keyFile,
    authoritative: options.authority === false ? false : undefined,
    helloRate: options.helloRate,
    helloBurst: options.helloBurst,
    queryRate: options.queryRate,
    queryBurst: options.queryBurst,
    capacity: options.capacity,
    idleTimeout: options.idleTimeout,
    ackDelay: options.ackDelay,
    warmUp: options.warmUp,
    retention: options.retention,
    control: options.control,
    metrics: options.metrics,
    logLevel: options.logLevel,
  };
}

/** What can fail without the database, the log or a device, checked before any of them is opened; then the logger. */
function prepareToRun(config: ReceiverConfig): Logger {
  prepareControlPath(config.control, 'control (--control)');
  prepareDirectoryFor(config.database, 'database (--db)', DIRECTORY_MODE);
  if (config.connectionLog !== '-') prepareDirectoryFor(config.connectionLog, 'connectionLog (--conn-log)', DIRECTORY_MODE);
  const logger = createLogger({ name: 'nat64-receiver', level: config.logLevel as 'info' });
  if (config.retentionMs === 0) {
    logger.warn(
      { retention: 0 },
      'retention is 0: ended entries leave the history at once, so lookup --at finds only what is held now; ' +
        'if that is intended, nothing else is needed; otherwise set retention (e.g. "90d") and reload',
    );
  }
  return logger;
}

/** Runs the daemon until SIGTERM or SIGINT, telling systemd (Type=notify) and reloading on SIGHUP. */
async function serve(source: { file?: string; flags: RawSettings }, config: ReceiverConfig, logger: Logger, shutdown: Promise<ShutdownSignal>): Promise<void> {
  const notifier = new ServiceNotifier({ onError: (error) => logger.warn({ err: error }, 'cannot notify systemd ($NOTIFY_SOCKET)') });
  const settings = new ReceiverSettings(config);
  const reloader = new ReceiverReloader(source, config, settings, logger);
  // Told to systemd (Type=notify) as RELOADING=1, then READY=1 whatever the outcome.
  const reload = (trigger: 'SIGHUP' | 'control') => {
    notifier.reloading();
    try {
      return reloader.reload(trigger);
    } finally {
      notifier.ready();
    }
  };
  // Before anything is opened: from here on a SIGHUP never ends the process (its default action would).
  let state: 'starting' | 'running' | 'stopping' = 'starting';
  onReopenSignal(() => {
    if (state !== 'running') {
      logger.warn(`SIGHUP while ${state}: ignored`);
      return;
    }
    daemon.reopenLog();
    reload('SIGHUP');
  });
  const daemon = await startReceiver(config, logger, {
    settings,
    controlHandlers: { reload: () => reload('control') },
    onTick: () => notifier.tick(),
    extendStart: (ms, status) => notifier.extendTimeout(ms, status),
  });
  state = 'running';
  notifier.ready(`receiving on ${[...config.transports].join(', ')}; ${daemon.receiver.peerCount} gateways known`);
  const signal = await shutdown;
  state = 'stopping';
  notifier.stopping();
  logger.info({ signal }, 'shutting down');
  await daemon.close();
  logger.flush();
}

const program = new Command()
  .name('nat64-receiver')
  .description(
    'Lets IPv6-only clients of NAT64 gateways reach this IPv4 host natively through NAT64 bypass tunnels (UDP 6081), ' +
      'and receives NAT64 handoff messages (UDP 62863) or our Geneve mapping transport, keeping the authoritative table of ' +
      'the connections NAT64 gateways made toward this host and logging each one with the real IPv6 client.',
  )
  .version(packageVersion(import.meta.url))
  .exitOverride();

const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

program
  .command('run')
  .description('run the receiver daemon (foreground; for systemd)')
  .option('-c, --config <file>', 'JSON config file; flags override it')
  .option('--check', 'validate the configuration, print "configuration OK" and exit, opening nothing')
  .option('--print', 'with --check: print the effective configuration (defaults, file and flags) as JSON instead, keys hidden')
  .option('--listen <addresses>', `addresses to listen on, comma-separated; "::" alone serves IPv4 gateways too (default ${DEFAULTS.listen.join(',')})`, list)
  .option('--port <port>', `UDP port of handoff messages (default ${HANDOFF_PORT})`, Number)
  .option(
    '--transport <list>',
    'comma-separated: bypass (NAT64 bypass Geneve tunnels: clients reach this host natively over IPv6; UDP 6081, a TAP device per gateway), ' +
      'handoff (handoff messages, UDP 62863), geneve (our Geneve mapping transport for services that listen on IPv4 only; UDP 6081, a TUN device); ' +
      'both = handoff,geneve (default handoff,geneve; Geneve needs CAP_NET_ADMIN)',
  )
  .option(
    '--bypass-prefix <prefixes>',
    'NAT64 /96 prefixes whose PREFIX::(an IPv4 address of this host) bypass offers may name, comma-separated (default 64:ff9b::/96)',
    list,
  )
  .option('--bypass-tap <name>', 'bypass TAP devices are named this plus a number (default nat64bp)')
  .option('--bypass-mtu <bytes>', 'IPv6 MTU of the bypass tunnels (default 1400)', Number)
  .option('--bypass-max-tunnels <count>', 'most bypass tunnels (gateways) at once; offers beyond are refused and counted (default 64)', Number)
  .option(
    '--no-bypass-coalesce',
    'write every frame from a gateway into the TAP device by itself, instead of consecutive TCP segments of a flow as one large segment',
  )
  .option('--geneve-port <port>', `UDP port of Geneve (default ${DEFAULTS.genevePort})`, Number)
  .option('--geneve-tun <name>', `TUN device that delivers Geneve inner packets to this host (default ${DEFAULTS.geneveTun})`)
  .option('--db <file>', `SQLite database of the table and its history (default ${DEFAULTS.database})`)
  .addOption(
    new Option('--durability <level>', 'full: a stored entry survives power loss; normal: survives a crash of the receiver (default full)').choices([
      'full',
      'normal',
    ]),
  )
  .option(
    '--conn-log <file>',
    'connection log file (created 0640), reopened on SIGHUP (which also reloads the configuration); a failed write or reopen holds lines and ACKs and is retried; "-" for stdout (default -)',
  )
  .option('--local-time', 'connection log timestamps in local time instead of UTC')
  .option('--allow <ranges>', 'accept gateways only from these addresses or CIDR ranges, comma-separated (default: any)', list)
  .option('--key <hex>', 'a key (32-128 hex digits) every gateway must authenticate with; visible in ps, so prefer --key-file')
  .option('--key-file <file>', 'file holding a hex key (16-64 bytes) that every gateway must authenticate with')
  .option('--no-authority', 'do not take authority: log entries but answer queries "not authoritative"')
  .option('--hello-rate <per-second>', `HELLO-ACKs per second per gateway address; 0 no limit (default ${DEFAULTS.helloRate})`, Number)
  .option('--hello-burst <count>', `HELLO-ACKs a gateway address may draw at once (default ${DEFAULTS.helloBurst})`, Number)
  .option('--query-rate <per-second>', `ANSWERs per second per gateway address; 0 no limit (default ${DEFAULTS.queryRate})`, Number)
  .option('--query-burst <count>', `ANSWERs a gateway address may draw at once (default ${DEFAULTS.queryBurst})`, Number)
  .option('--capacity <entries>', `most entries held; the least recently used make room (default ${DEFAULTS.capacity})`, Number)
  .option('--idle-timeout <duration>', `end entries unused for this long, e.g. 24h, 90m; 0 never (default ${DEFAULTS.idleTimeout})`)
  .option(
    '--ack-delay <duration>',
    `wait at most this long to acknowledge several commits of a gateway with one ACK (fewer wake-ups of the gateway), at once from 16 messages on or when a gateway retransmits; 0 an ACK per commit (default ${DEFAULTS.ackDelay})`,
  )
  .option(
    '--warm-up <entries>',
    `before listening, run this many made-up entries through a scratch store and log, so that the first real ones meet compiled code; 0 none (default ${DEFAULTS.warmUp})`,
    Number,
  )
  .option('--retention <duration>', `keep ended entries in the history this long, e.g. 90d (default ${DEFAULTS.retention})`)
  .option('--control <socket>', `control socket for "stats" and "reload" (default ${DEFAULTS.control})`)
  .option('--metrics <address>', 'serve Prometheus metrics over HTTP on ADDRESS:PORT, or PORT on 127.0.0.1 (GET /metrics); default off')
  .addOption(new Option('--log-level <level>', 'operational log level (stderr, JSON)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .action(async (options: Record<string, unknown>) => {
    const source = { ...(typeof options.config === 'string' ? { file: options.config } : {}), flags: settingsFromFlags(options) };
    const config = loadReceiverConfig(source);
    if (options.print === true) {
      console.log(JSON.stringify(effectiveSettings(config), null, 2));
      return;
    }
    if (options.check === true) {
      console.log('configuration OK');
      return;
    }
    // Before anything is opened or logged: a SIGTERM while starting stops the daemon cleanly once it has started.
    const shutdown = waitForShutdown();
    const logger = prepareToRun(config);
    await serve(source, config, logger, shutdown);
  });

program.addCommand(lookupCommand().copyInheritedSettings(program));

program
  .command('dump')
  .description('print the current table in connection log format, or as JSON lines')
  .option('--db <file>', `the receiver's database (default ${DEFAULTS.database})`)
  .option('-c, --config <file>', "take the database path from the receiver's config file")
  .option('--local-time', 'timestamps in local time instead of UTC')
  .option('--client <ipv6>', 'only entries of this IPv6 client address')
  .option('--nat <address[:port]>', 'only entries on this NAT address, or address and port')
  .addOption(new Option('--proto <protocol>', 'only this protocol').choices(Object.keys(PROTOCOL_NUMBERS)))
  .option('--json', 'one JSON object per entry (protocol, nat, client, server, startedAt with microseconds)')
  .action((options: Record<string, unknown>) => {
    const accept = dumpFilter({
      ...(typeof options.client === 'string' ? { client: options.client } : {}),
      ...(typeof options.nat === 'string' ? { nat: options.nat } : {}),
      ...(typeof options.proto === 'string' ? { protocol: options.proto as keyof typeof PROTOCOL_NUMBERS } : {}),
    });
    const database = databasePath(options);
    if (options.json) for (const entry of dumpEntries(database, accept)) process.stdout.write(`${JSON.stringify(entryJson(entry))}\n`);
    else for (const line of dumpLines(database, options.localTime ? 'local' : 'utc', accept)) process.stdout.write(`${line}\n`);
  });

program
  .command('stats')
  .description('counters of the running receiver')
  .option('--control <socket>', `the daemon's control socket (default: the config file's, else ${DEFAULTS.control})`)
  .option('-c, --config <file>', "take the control socket path from the receiver's config file")
  .option('--explain', 'say what each counter means')
  .option('--all', 'include counters that are zero')
  .option('--json', 'print JSON')
  .action(async (options: ControlOptions & { explain?: boolean; all?: boolean; json?: boolean }) => {
    if (options.json) {
      console.log(JSON.stringify(await callControl(controlPath(options), 'stats', { all: options.all === true })));
      return;
    }
    console.log(await callControl(controlPath(options), 'statsText', { all: options.all === true, explain: options.explain === true }));
  });

program
  .command('reload')
  .description(
    'make the running receiver read its configuration again (as SIGHUP does, without reopening the log): log level, allow, keys and ' +
      'retention change at once; what needs a restart is named. Exits 78 when the new configuration is refused.',
  )
  .option('--control <socket>', `the daemon's control socket (default: the config file's, else ${DEFAULTS.control})`)
  .option('-c, --config <file>', "take the control socket path from the receiver's config file")
  .option('--json', 'print JSON')
  .action(async (options: ControlOptions & { json?: boolean }) => {
    const outcome = (await callControl(controlPath(options), 'reload')) as ReloadOutcome;
    if (options.json) console.log(JSON.stringify(outcome));
    else if (!outcome.ok) console.log(`reload refused, the running configuration stays: ${outcome.error ?? 'unknown reason'}`);
    else {
      console.log(`applied: ${outcome.applied.length > 0 ? outcome.applied.join(', ') : 'nothing changed'}`);
      if (outcome.needsRestart.length > 0) console.log(`needs a restart: ${outcome.needsRestart.join(', ')}`);
    }
    if (!outcome.ok) process.exitCode = ExitCode.config;
  });

hintHelpAfterErrors(program);

function databasePath(options: Record<string, unknown>): string {
  if (typeof options.db === 'string') return options.db;
  if (typeof options.config === 'string') return loadReceiverConfig({ file: options.config, flags: {} }).database;
  return DEFAULTS.database;
}

interface ControlOptions {
  control?: string;
  config?: string;
}

function controlPath(options: ControlOptions): string {
  if (options.control !== undefined) return options.control;
  if (options.config !== undefined) return loadReceiverConfig({ file: options.config, flags: {} }).control;
  return DEFAULTS.control;
}

function exitCodeOf(error: unknown): number {
  if (error instanceof FatalError) return error.exitCode;
  if (error instanceof ConfigError) return ExitCode.config;
  if (error instanceof ControlError) return ExitCode.unavailable;
  const lookupCode = lookupExitCode(error);
  if (lookupCode !== undefined) return lookupCode;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL') return ExitCode.unavailable;
  if (code === 'EACCES' || code === 'EPERM') return ExitCode.noPermission;
  return ExitCode.software;
}

try {
  await program.parseAsync();
} catch (error) {
  const commanderCode = (error as { code?: string; exitCode?: number }).code;
  if (typeof commanderCode === 'string' && commanderCode.startsWith('commander.')) {
    process.exit(commanderCode === 'commander.helpDisplayed' || commanderCode === 'commander.version' ? 0 : ExitCode.usage);
  }
  console.error(`nat64-receiver: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(exitCodeOf(error));
}
