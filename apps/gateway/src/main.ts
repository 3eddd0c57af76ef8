#!/usr/bin/env node
// nat64-gateway: the composition root. Parses the command line (commander), then runs the gateway
// (run.ts) or asks a running one for its sessions, counters or handoff hosts (client.ts). Exit codes
// follow sysexits: 78 configuration, 77 permission, 69 unavailable, 64 usage.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, ControlError, ExitCode, FatalError, hintHelpAfterErrors, packageVersion } from '@nat64/service';
import { reloadGateway, showHosts, showSessions, showStats } from './client.js';
import { DEFAULT_CONTROL, DEFAULT_PREFIX, DEFAULT_TX_QUEUE_LENGTH, loadGatewayConfig } from './config.js';
import { runGateway } from './run.js';
import { parseSessionFilter } from './sessions.js';

function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

interface RunFlags {
  config?: string;
  check?: boolean;
  print?: boolean;
  tun?: string;
  tunMtu?: number;
  attach?: boolean;
  tunOffload?: boolean;
  tunCoalesce?: boolean;
  tunTxQueue?: number;
  prefix?: string;
  pool4?: string[];
  refuseNonGlobal?: boolean;
  filtering?: string;
  dropUnsolicitedTcp?: boolean;
  udpTimeout?: string;
  tcpEstTimeout?: string;
  tcpTransTimeout?: string;
  icmpTimeout?: string;
  allowShortTimeouts?: boolean;
  maxSessions?: number;
  maxSessionsPerClient?: number;
  logSessions?: boolean;
  handoff?: string;
  handoffKeyFile?: string;
  transport?: string;
  bypassSecretFile?: string;
  logLevel?: string;
  control?: string;
  metrics?: string;
  routes?: boolean;
}

/** Flags as dotted configuration keys; unset flags leave the file's value (or the default). */
function settingsFromFlags(flags: RunFlags): Record<string, unknown> {
  return {
    'tun.name': flags.tun,
    'tun.mtu': flags.tunMtu,
    'tun.create': flags.attach === true ? false : undefined,
    'tun.offload': flags.tunOffload === true ? true : undefined,
    'tun.coalesce': flags.tunCoalesce === true ? true : undefined,
    'tun.txQueueLength': flags.tunTxQueue,
    prefix: flags.prefix,
    pool4: flags.pool4,
    refuseNonGlobalUnderWkp: flags.refuseNonGlobal === false ? false : undefined,
    filtering: flags.filtering,
    dropUnsolicitedTcp: flags.dropUnsolicitedTcp,
    'timeouts.udp': flags.udpTimeout,
    'timeouts.tcpEstablished': flags.tcpEstTimeout,
    'timeouts.tcpTransitory': flags.tcpTransTimeout,
    'timeouts.icmp': flags.icmpTimeout,
    'timeouts.allowBelowMinimum': flags.allowShortTimeouts,
    'limits.maxSessions': flags.maxSessions,
    'limits.maxSessionsPerClient': flags.maxSessionsPerClient,
    logSessions: flags.logSessions,
    'handoff.mode': flags.handoff,
    'handoff.keyFile': flags.handoffKeyFile,
    'handoff.transport': flags.transport,
    'handoff.bypass.secretFile': flags.bypassSecretFile,
    logLevel: flags.logLevel,
    control: flags.control,
    metrics: flags.metrics,
    routes: flags.routes === true ? true : undefined,
  };
}

function program(): Command {
  const root = new Command('nat64-gateway')
    .description('Stateful NAT64 (RFC 6146) over a TUN device: lets IPv6-only clients reach IPv4-only servers.')
    .version(packageVersion(import.meta.url))
    .exitOverride();

  addRunCommand(root);
  addSessionsCommand(root);
  addStatsCommand(root);
  addAnswerCommand(
    root,
    'hosts',
    'List the handoff peers of the running gateway, one per NAT address and IPv4 host: state (unknown, silent, port-closed, ' +
      'acknowledging, authoritative), window, messages in flight, entries queued, RTO, entries handed off, when last heard.',
    async (options) => showHosts(options),
  );
  addAnswerCommand(
    root,
    'reload',
    'Make the running gateway read its configuration again (as SIGHUP does): log level, timeouts, session limits, statsInterval, ' +
      'logSessions and the handoff key change at once; what needs a restart is named. Exits 78 when the new configuration is refused.',
    async (options) => {
      process.exitCode = await reloadGateway(options);
    },
  );
  hintHelpAfterErrors(root);
  return root;
}

/** `run`: the daemon, its settings as flags (settingsFromFlags). */
function addRunCommand(root: Command): void {
  root
    .command('run')
    .description(
      'Run the gateway. Settings come from the defaults, then --config, then these flags. After it starts, route the ' +
        'prefix and the pool4 addresses into the TUN device (ip -6 route add PREFIX dev TUN; ip route add POOL4/32 dev TUN), or pass --routes.',
    )
    .option('-c, --config <file>', 'JSON configuration file (see contrib/gateway.example.json); flags override it')
    .option('--check', 'validate the configuration, print "configuration OK" and exit, opening nothing')
    .option('--print', 'with --check: print the effective configuration (defaults, file and flags) as a JSON configuration file instead')
    .option('--tun <name>', 'TUN interface to create (or attach to, with --attach); default nat64')
    .option('--tun-mtu <bytes>', 'MTU to give the TUN device it creates (1280-65535); default 1500', integer)
    .option('--attach', 'attach to an existing TUN interface and leave its MTU and link state alone')
    .option(
      '--tun-tx-queue <packets>',
      `packets the kernel queues for the gateway to read (tun.txQueueLength; a full queue drops, counted as device.txDropped); default ${DEFAULT_TX_QUEUE_LENGTH} for a device it creates`,
      integer,
    )
    .option('--tun-offload', 'take checksum and TCP segmentation offload through the TUN device (tun.offload; with --transport bypass, checksum offload only)')
    .option(
      '--tun-coalesce',
      'with --tun-offload: write translated (or tunnelled) packets of one flow in a batch as one UDP (USO, Linux 6.2+) or TCP segmentation packet (tun.coalesce)',
    )
    .option('--prefix <prefix>', `RFC 6052 prefix (pool6), /32 /40 /48 /56 /64 or /96; default ${DEFAULT_PREFIX}`)
    .option('--pool4 <addresses>', 'comma-separated IPv4 addresses IPv4 hosts see (ports per protocol: in --config)', list)
    .option('--no-refuse-non-global', 'translate non-global IPv4 destinations even under the Well-Known Prefix (RFC 6052 3.1 says MUST NOT)')
    .addOption(new Option('--filtering <mode>', 'inbound filtering (RFC 6146 3.5.1)').choices(['endpoint-independent', 'address-dependent']))
    .option('--drop-unsolicited-tcp', 'drop unsolicited IPv4 SYNs instead of holding them 6 s for a simultaneous open')
    .option('--udp-timeout <duration>', 'UDP session lifetime (e.g. 5m; at least 2m); default 5m')
    .option('--tcp-est-timeout <duration>', 'established TCP session lifetime (at least 2h4m); default 2h4m')
    .option('--tcp-trans-timeout <duration>', 'transitory TCP session lifetime (at least 4m); default 4m')
    .option('--icmp-timeout <duration>', 'ICMP query session lifetime; default 60s')
    .option('--allow-short-timeouts', 'accept timeouts below the RFC 6146 minimums (labs and tests only; logs a warning)')
    .option('--max-sessions <count>', 'sessions at most, all protocols; default 2000000', integer)
    .option('--max-sessions-per-client <count>', 'sessions one IPv6 client address may hold; default 16384', integer)
    .option('--log-sessions', 'log every BIB entry and session created or deleted, at info level')
    .addOption(
      new Option(
        '--handoff <mode>',
        'handoff to receivers on UDP 62863 of the IPv4 hosts: off (plain NAT64, sends nothing), announce (report mappings, keep ' +
          'authority), full (hand authority to receivers that take it); default full',
      ).choices(['off', 'announce', 'full']),
    )
    .addOption(
      new Option(
        '--transport <which>',
        'how receivers are reached: bypass (offer NAT64 bypass on UDP 6081 to every IPv4 host: untranslated IPv6 through a ' +
          'Geneve tunnel to hosts that accept, translation for the others), handoff (messages on UDP 62863), geneve (our Geneve ' +
          'mapping transport, for servers whose applications listen on IPv4 only: translated packets in Geneve tunnels with their ' +
          'mappings, control packets on UDP 6081), auto (every way: bypass, then the mapping transport toward hosts whose receiver ' +
          'announces it, handoff messages otherwise); default handoff',
      ).choices(['bypass', 'handoff', 'geneve', 'auto']),
    )
    .option(
      '--bypass-secret-file <file>',
      'file of the persistent secret the bypass VNIs are derived from, created 0600 on first start (handoff.bypass.secretFile); default /var/lib/nat64-gateway/bypass-secret',
    )
    .option('--handoff-key-file <file>', 'file holding the hex key (16-64 bytes) shared with the receivers: every handoff datagram is authenticated')
    .addOption(new Option('--log-level <level>', 'log level of the JSON log on stderr').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .option('--control <path>', `control socket for the sessions, stats, hosts and reload commands; default ${DEFAULT_CONTROL}`)
    .option('--metrics <address>', 'serve Prometheus metrics over HTTP on ADDRESS:PORT, or PORT on 127.0.0.1 (GET /metrics); default off')
    .option('--routes', 'route the prefix and the pool4 addresses into the TUN device while running (again when its link comes back up), removed on exit')
    .action(async (flags: RunFlags) => {
      process.exitCode = await runGateway({ file: flags.config, flags: settingsFromFlags(flags), check: flags.check === true, print: flags.print === true });
    });
}

/** A command that asks the running gateway through its control socket (--control, or the one of --config). */
function controlCommand(root: Command, name: string): Command {
  return root
    .command(name)
    .option('--control <path>', `control socket of the running gateway (default: the config file's, else ${DEFAULT_CONTROL})`)
    .option('-c, --config <file>', "take the control socket path from the gateway's config file");
}

function addSessionsCommand(root: Command): void {
  controlCommand(root, 'sessions')
    .description("List the running gateway's sessions, like jool session display: protocol, both sides, TCP state, time left.")
    .addOption(new Option('--protocol <protocol>', 'only this protocol').choices(['tcp', 'udp', 'icmp']))
    .option('--client <ipv6>', 'only sessions of this IPv6 client address')
    .option('--server <ipv4>', 'only sessions toward this IPv4 server address')
    .option('--nat <ipv4[:port]>', 'only sessions on this pool4 address, or address and port (ICMP: identifier), e.g. 198.51.100.1:61000')
    .option('--json', 'one JSON object per session instead of a table')
    .action(async (flags: ControlFlags & { protocol?: string; client?: string; server?: string; nat?: string; json?: boolean }, command: Command) => {
      try {
        parseSessionFilter({ protocol: flags.protocol, client: flags.client, server: flags.server, nat: flags.nat });
      } catch (error) {
        command.error(`error: ${(error as Error).message}`, { exitCode: ExitCode.usage });
      }
      await showSessions({ ...flags, control: controlPath(flags) });
    });
}

function addStatsCommand(root: Command): void {
  controlCommand(root, 'stats')
    .description("Show the running gateway's counters (TUN device, gateway, translator drop reasons, tables, fragments), like jool stats display.")
    .option('--explain', 'add a one-line explanation to every counter')
    .option('--all', 'include counters that are zero')
    .option('--json', 'print the counters as JSON')
    .action(async (flags: ControlFlags & { explain?: boolean; all?: boolean; json?: boolean }) => {
      await showStats({ ...flags, control: controlPath(flags) });
    });
}

/** A control command that prints the gateway's answer, as a table or with --json as JSON. */
function addAnswerCommand(root: Command, name: string, description: string, run: (options: { control: string; json?: boolean }) => Promise<void>): void {
  controlCommand(root, name)
    .description(description)
    .option('--json', 'print the answer as JSON')
    .action(async (flags: ControlFlags & { json?: boolean }) => {
      await run({ ...flags, control: controlPath(flags) });
    });
}

interface ControlFlags {
  control?: string;
  config?: string;
}

/** --control, else the control socket of the --config file, else the default. */
function controlPath(flags: ControlFlags): string {
  if (flags.control !== undefined) return flags.control;
  if (flags.config === undefined) return DEFAULT_CONTROL;
  try {
    return loadGatewayConfig({ file: flags.config, flags: {} }).control;
  } catch (error) {
    if (error instanceof ConfigError) throw new FatalError(`invalid configuration: ${error.message}`, ExitCode.config, { cause: error });
    throw error;
  }
}

async function main(): Promise<void> {
  try {
    await program().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    } else if (error instanceof FatalError) {
      process.stderr.write(`nat64-gateway: ${error.message}\n`);
      process.exitCode = error.exitCode;
    } else if (error instanceof ControlError) {
      process.stderr.write(`nat64-gateway: ${error.message}\n`);
      process.exitCode = ExitCode.unavailable;
    } else {
      process.stderr.write(`nat64-gateway: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = ExitCode.software;
    }
  }
  // Everything was closed in an orderly way; leave no stray handle deciding when the process ends. Output
  // to a pipe is written asynchronously, and process.exit() would drop what is still queued (a long
  // `sessions --json` listing): let stdout drain first.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(process.exitCode ?? ExitCode.ok);
}

await main();
