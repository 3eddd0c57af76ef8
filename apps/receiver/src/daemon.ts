// Assembles a running receiver from a validated config: opens the store and the connection log,
// builds the engine from them (@nat64/handoff-receiver buildReceiver: log recovery, cookie secret,
// table, engine), opens the sockets, the Geneve device, NAT64 bypass and the control socket, then
// starts the engine's timers (runReceiver). `nat64-receiver run` calls it and waits for a signal;
// tests call it directly.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SqliteStore, type ConnStore } from '@nat64/conntrack';
import { Capability } from '@nat64/handoff-codec';
import type { TunDevice } from '@nat64/tun';
import {
  ExitCode,
  FatalError,
  formatCounters,
  formatMetrics,
  formatMetricsAddress,
  listenControl,
  listenMetrics,
  systemMicroClock,
  type ControlHandler,
  type ControlServer,
  type Logger,
  type MetricsServer,
  type MicroClock,
} from '@nat64/service';
import { newAckLatencyHistogram, receiverMetricFamilies } from './metrics.js';
import { buildReceiver, createReceiverCounters, runReceiver, type BuiltReceiver, type ConnectionLog, type Receiver } from '@nat64/handoff-receiver';
import { openConnectionLog } from './log-file.js';
import { openTransport, type Transport } from './transport.js';
import { GeneveEndpoint } from './geneve-endpoint.js';
import { openHostStack } from './host-stack.js';
import { isBypassPacket } from '@nat64/geneve';
import { startBypass, type BypassEnvironment, type BypassService } from './bypass/service.js';
import type { ReceiverConfig } from './config.js';
import { ReceiverSettings } from './reload.js';

const MAX_PEERS = 100_000;
/** Mode of the directories the receiver creates for its database and its connection log. */
const DIRECTORY_MODE = 0o750;

export interface ReceiverDaemon {
  readonly receiver: Receiver;
  /** Handoff v1 on UDP 62863, unless the transport is geneve only. */
  readonly transport: Transport | undefined;
  /** Geneve on UDP 6081, when enabled and its TUN device could be opened. */
  readonly geneve: { transport: Transport; endpoint: GeneveEndpoint; device: TunDevice } | undefined;
  /** NAT64 bypass on UDP 6081, when enabled; it shares the Geneve socket. */
  readonly bypass: { transport: Transport; service: BypassService } | undefined;
  readonly counters: ReturnType<typeof createReceiverCounters>;
  /** Reopens the connection log file (SIGHUP); a failure is logged and retried, never thrown. */
  reopenLog(): void;
  /** Commits what is pending, then closes sockets, control socket, store and log. */
  close(): Promise<void>;
}

export interface ReceiverEnvironment {
  clock?: MicroClock;
  /** Opens the device Geneve inner packets go through (tests pass an in-memory one). */
  openDevice?: (name: string, logger: Logger) => TunDevice;
  /** The settings a reload can change (reload.ts); made from `config` when absent. */
  settings?: ReceiverSettings;
  /** More control socket methods (`reload`). */
  controlHandlers?: Record<string, ControlHandler>;
  /** How NAT64 bypass opens TAP devices and changes the host's routing (tests pass fakes). */
  bypass?: BypassEnvironment;
  /** Called every tick of the main loop (the systemd watchdog). */
  onTick?: () => void;
}

export async function startReceiver(config: ReceiverConfig, logger: Logger, environment: ReceiverEnvironment = {}): Promise<ReceiverDaemon> {
  const clock = environment.clock ?? systemMicroClock();
  const store = await openStore(config);
  const counters = createReceiverCounters();
  let log: ConnectionLog | undefined;
  let built: BuiltReceiver | undefined;
  let transport: Transport | undefined;
  let geneveTransport: Transport | undefined;
  let device: TunDevice | undefined;
  let bypass: BypassService | undefined;
  let control: ControlServer | undefined;
  let metrics: MetricsServer | undefined;
  try {
    log = openConnectionLogOf(config, logger, counters);
    const ackLatency = newAckLatencyHistogram();
    const settings = environment.settings ?? new ReceiverSettings(config);
    const allows = (address: string) => settings.allows(address);
    const keyFor = (address: string) => settings.keyFor(address);
    const useHandoff = config.transports.has('handoff');
    let endpoint: GeneveEndpoint | undefined;
    built = buildReceiver({
      store,
      log,
      clock,
      logger,
      counters,
      capacity: config.capacity,
      idleTimeoutMs: config.idleTimeoutMs,
      ackLatency,
      send: (bytes, port, address, via, cookie) => {
        if (via === 'geneve') geneveTransport?.send(endpoint!.frame(bytes, address, cookie), port, address);
        else transport?.send(bytes, port, address);
      },
      options: {
        authoritative: config.authoritative,
        allows,
        keyFor: (address) => keyFor(address)?.secret,
        maxPeers: MAX_PEERS,
        capabilities: () => (useHandoff ? Capability.HANDOFF_V1 : 0) | (device ? Capability.GENEVE : 0),
        helloLimit: config.helloLimit,
        queryLimit: config.queryLimit,
      },
    });
    const { receiver, table } = built;
    device = config.transports.has('geneve') ? openGeneveDevice(config, logger, environment.openDevice ?? openHostStack) : undefined;
    bypass = config.transports.has('bypass') ? startBypass(config, logger, log, clock, (packet, port, address) => geneveTransport?.send(packet, port, address), () => geneveTransport?.sendQueueCount() ?? 0, environment.bypass) : undefined;
    const onSendError = (error: Error) => {
      counters.add('sendErrors');
      logger.debug({ err: error }, 'send failed');
    };
    if (useHandoff) {
      transport = await openTransport({ addresses: config.listen, port: config.port, onDatagram: (bytes, address, port) => receiver.handleDatagram(bytes, address, port), onSendError });
    }
    const geneveEndpoint = device ? new GeneveEndpoint(receiver, device, counters, { optionClass: config.geneveOptionClass, keyFor }) : undefined;
    endpoint = geneveEndpoint;
    if (geneveEndpoint || bypass) {
      // One socket on UDP 6081 for both Geneve transports, told apart by bypass's Protocol Type and option class.
      const bypassEndpoint = bypass;
      geneveTransport = await openTransport({
        addresses: config.listen,
        port: config.genevePort,
        onDatagram: (bytes, address, port) => {
          const source = address.startsWith('::ffff:') ? address.slice(7) : address;
          if (!allows(source)) counters.add('notAllowed');
          else if (bypassEndpoint && isBypassPacket(bytes, 0, bytes.length)) bypassEndpoint.handleDatagram(bytes, source);
          else if (geneveEndpoint) geneveEndpoint.handleDatagram(bytes, address, port);
          else bypassEndpoint?.refuseOther();
        },
        onSendError,
      });
    }
    const openTable = table;
    const openLog = log;
    const openEndpoint = endpoint;
    const openBypass = bypass;
    // `stats --json`: counters by group, as the gateway's are (README "Control socket").
    const groupedSnapshot = (all: boolean) => [
      ...counters.snapshot({ all }).map((counter) => ({ group: 'receiver', ...counter })),
      ...(openEndpoint?.dropCounters(all) ?? []).map((counter) => ({ group: 'geneve', ...counter })),
      ...(openBypass?.counters(all) ?? []).map((counter) => ({ group: 'bypass', ...counter })),
    ];
    const snapshot = (all: boolean) => [...counters.snapshot({ all }), ...(openEndpoint?.dropCounters(all) ?? []), ...(openBypass?.counters(all) ?? [])];
    control = await listenControl(config.control, {
      stats: (params) => ({ counters: groupedSnapshot(params.all === true), gauges: { entries: openTable.size, gateways: receiver.peerCount }, ...openBypass?.stats() }),
      statsText: (params) => formatCounters(snapshot(params.all === true), params.explain === true) + (openBypass?.statsText() ?? ''),
      ...environment.controlHandlers,
    });
    if (config.metrics !== undefined) {
      const render = () => {
        const queue = receiver.commitQueue;
        const gauges = {
          entries: openTable.size,
          gateways: receiver.peerCount,
          commitQueueEntries: queue.entries,
          commitsInFlight: queue.commits,
          ...(openBypass === undefined ? {} : { bypassTunnels: openBypass.stats().bypassTunnels.length }),
        };
        return formatMetrics(receiverMetricFamilies(snapshot(true), gauges, ackLatency));
      };
      try {
        metrics = await listenMetrics(config.metrics, render);
      } catch (error) {
        throw new FatalError(`cannot serve metrics on ${formatMetricsAddress(config.metrics)}: ${(error as Error).message}`, ExitCode.unavailable, { cause: error });
      }
      logger.info({ metrics: `http://${formatMetricsAddress(metrics.address)}/metrics` }, 'serving metrics');
    }
    const running = runReceiver(built, { clock, logger, counters, retentionMs: () => settings.retentionMs, onTick: environment.onTick });
    logger.info(
      {
        listen: transport?.bound ?? [],
        geneve: geneveTransport?.bound ?? [],
        ipv4Through: transport?.ipv4Through ?? geneveTransport?.ipv4Through,
        geneveDevice: device?.name,
        database: config.database,
        entries: table.size,
        gateways: receiver.peerCount,
      },
      'receiver started',
    );
    warnIfIpv6Only(config.listen, transport ?? geneveTransport, logger);
    const openTransports = [transport, geneveTransport].filter((open): open is Transport => open !== undefined);
    const openControl = control;
    const openMetrics = metrics;
    const openDevice = device;
    return {
      receiver,
      transport,
      geneve: geneveTransport && endpoint && device ? { transport: geneveTransport, endpoint, device } : undefined,
      bypass: geneveTransport && openBypass ? { transport: geneveTransport, service: openBypass } : undefined,
      counters,
      reopenLog: () => openLog.reopen(),
      async close() {
        await running.stop();
        for (const open of openTransports) await open.close();
        openDevice?.close();
        // Lines the log cannot take now are left to log recovery at the next start, unacknowledged.
        openLog.finish();
        openBypass?.close();
        await running.drain();
        await openControl.close();
        await openMetrics?.close();
        await openTable.closeAsync();
        openLog.close();
        logger.info('receiver stopped');
      },
    };
  } catch (error) {
    await transport?.close();
    await geneveTransport?.close();
    device?.close();
    bypass?.close();
    await control?.close();
    await metrics?.close();
    if (built) await built.table.closeAsync();
    else store.close();
    log?.close();
    throw error;
  }
}

/** Says so at start when no socket receives from IPv4 gateways (`::` alone on a host with net.ipv6.bindv6only=1). */
function warnIfIpv6Only(listen: readonly string[], transport: Transport | undefined, logger: Logger): void {
  if (transport === undefined || transport.ipv4Through !== undefined || listen.some((address) => !address.includes(':'))) return;
  logger.warn(
    { listen: transport.bound },
    'listening on IPv6 only: IPv4 gateways cannot reach this receiver; add 0.0.0.0 to --listen ("::" alone serves IPv4 too, unless net.ipv6.bindv6only=1)',
  );
}

/**
 * The TUN device Geneve inner packets go through. Without it (no CAP_NET_ADMIN, no /dev/net/tun)
 * a receiver asked for Geneve without handoff cannot run; one asked for both runs with handoff messages only.
 */
function openGeneveDevice(config: ReceiverConfig, logger: Logger, open: (name: string, logger: Logger) => TunDevice): TunDevice | undefined {
  try {
    return open(config.geneveTun, logger);
  } catch (error) {
    if (!config.transports.has('handoff')) {
      throw new FatalError(`cannot open the Geneve TUN device ${config.geneveTun}: ${(error as Error).message}`, ExitCode.noPermission, { cause: error });
    }
    logger.warn({ err: error }, `Geneve disabled: cannot open the TUN device ${config.geneveTun}; receiving handoff messages only`);
    return undefined;
  }
}

/** The store, written by a worker thread so that SQLite runs beside the receiving thread. */
function openStore(config: ReceiverConfig): Promise<ConnStore> {
  mkdirSync(dirname(config.database), { recursive: true, mode: DIRECTORY_MODE });
  return SqliteStore.openInWorker(config.database, { durability: config.durability });
}

/**
 * The connection log, its directory created if missing. Write and reopen failures are logged once
 * per outage and counted; lines and ACKs wait until a retry succeeds.
 */
function openConnectionLogOf(config: ReceiverConfig, logger: Logger, counters: ReturnType<typeof createReceiverCounters>): ConnectionLog {
  const file = config.connectionLog;
  if (file !== '-') mkdirSync(dirname(file), { recursive: true, mode: DIRECTORY_MODE });
  const log = logger.child({ component: 'conn-log' });
  return openConnectionLog(file === '-' ? { fd: 1 } : { file }, config.timeZone, {
    stalled: (error, doing) => {
      counters.add('logOutages');
      log.error(
        { err: error, code: error.code, file },
        `cannot ${doing === 'write' ? 'write' : 'reopen'} the connection log; holding its lines and every ACK, retrying until it works`,
      );
    },
    attemptFailed: () => counters.add('logWriteFailures'),
    resumed: () => log.warn({ file }, 'the connection log takes lines again; held lines written, ACKs resume'),
    reopened: () => log.info({ file }, 'reopened the connection log'),
  });
}
