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
  Counters,
  formatCounters,
  formatMetrics,
  formatMetricsAddress,
  listenControl,
  listenMetrics,
  systemMicroClock,
  Resources,
  type ControlHandler,
  type Histogram,
  type Logger,
  type MetricsAddress,
  type MetricsServer,
  type MicroClock,
} from '@nat64/service';
import { newAckLatencyHistogram, receiverMetricFamilies } from './metrics.js';
import {
  RECEIVER_COUNTERS,
  buildReceiver,
  runReceiver,
  type BuiltReceiver,
  type ConnectionLog,
  type Receiver,
  type ReceiverCounterName,
  type RunningReceiver,
} from '@nat64/handoff-receiver';
import { openConnectionLog } from './log-file.js';
import { openTransport, type Transport } from './transport.js';
import { openBatchedTransport, type BatchedTransport } from './batched-transport.js';
import { TunError } from '@nat64/tun';
import { GeneveEndpoint } from './geneve-endpoint.js';
import { openHostStack } from './host-stack.js';
import { isBypassPacket } from '@nat64/geneve';
import { startBypass, type BypassEnvironment, type BypassService } from './bypass/service.js';
import type { ReceiverConfig } from './config.js';
import { ReceiverSettings } from './reload.js';
import { warmUp } from './warm-up.js';

const MAX_PEERS = 100_000;

type ReceiverCounters = Counters<ReceiverCounterName>;
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
  readonly counters: ReceiverCounters;
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
  /** Called again and again through a long step of the start: it may take `ms` more (systemd's EXTEND_TIMEOUT_USEC). */
  extendStart?: (ms: number, status: string) => void;
}

/** How much longer a migration may take, said every third of that while it runs. */
const MIGRATION_EXTEND_MS = 30_000;

export async function startReceiver(config: ReceiverConfig, logger: Logger, environment: ReceiverEnvironment = {}): Promise<ReceiverDaemon> {
  // Released in reverse order by close(), or when a step below fails: the store and log last.
  const resources = new Resources(logger);
  return resources.start(async () => {
    const clock = environment.clock ?? systemMicroClock();
    const counters = new Counters(RECEIVER_COUNTERS);
    const settings = environment.settings ?? new ReceiverSettings(config);
    const ackLatency = newAckLatencyHistogram();
    if (config.warmUp > 0) {
      const warmed = await warmUp(config.warmUp, config.ackDelayMs, logger);
      if (warmed.entries > 0) logger.info(warmed, 'warmed up');
    }
    const sockets: Sockets = { transport: undefined, geneveTransport: undefined, batched: undefined, endpoint: undefined, device: undefined };
    const { built, log } = await openEngine(
      config,
      { logger, clock, counters, settings, ackLatency, sockets, extendStart: environment.extendStart },
      resources,
    );
    let running: RunningReceiver | undefined;
    resources.onStop('the commit pipeline', async () => {
      // Lines the log cannot take now are left to log recovery at the next start, unacknowledged.
      log.finish();
      await running?.drain();
    });
    const bypass = await openEndpoints(config, { logger, clock, counters, settings, log, built, sockets, environment }, resources);
    const stats = statsOf(built, counters, sockets.endpoint, bypass);
    await resources.acquire(
      'control socket',
      () => listenControl(config.control, { ...stats.handlers, ...environment.controlHandlers }),
      (control) => control.close(),
    );
    if (config.metrics !== undefined) await serveMetrics(config.metrics, () => stats.metrics(ackLatency), logger, resources);
    running = runReceiver(built, { clock, logger, counters, retentionMs: () => settings.retentionMs, onTick: environment.onTick });
    const timers = running;
    resources.add('timers', () => timers.stop());
    logStarted(config, logger, built, sockets);
    const { transport, geneveTransport, endpoint, device } = sockets;
    return {
      receiver: built.receiver,
      transport,
      geneve: geneveTransport && endpoint && device ? { transport: geneveTransport, endpoint, device } : undefined,
      bypass: geneveTransport && bypass ? { transport: geneveTransport, service: bypass } : undefined,
      counters,
      reopenLog: () => log.reopen(),
      async close() {
        await resources.stop();
        logger.info('receiver stopped');
      },
    };
  });
}

/** What the engine's send and the start steps fill in as the sockets and the Geneve device open. */
interface Sockets {
  transport: Transport | undefined;
  geneveTransport: Transport | undefined;
  /** geneveTransport when it is the batched socket (not the dgram fallback). */
  batched: BatchedTransport | undefined;
  endpoint: GeneveEndpoint | undefined;
  device: TunDevice | undefined;
}

interface EngineInputs {
  logger: Logger;
  clock: MicroClock;
  counters: ReceiverCounters;
  settings: ReceiverSettings;
  ackLatency: Histogram;
  sockets: Sockets;
  extendStart: ReceiverEnvironment['extendStart'];
}

/** The store, the connection log and the engine built over them (@nat64/handoff-receiver buildReceiver). */
async function openEngine(config: ReceiverConfig, inputs: EngineInputs, resources: Resources): Promise<{ built: BuiltReceiver; log: ConnectionLog }> {
  const { logger, clock, counters, settings, ackLatency, sockets, extendStart } = inputs;
  const store = await openStore(config, logger, extendStart);
  let built: BuiltReceiver | undefined;
  // Once built, the table owns the store and closes it after its queued commits.
  resources.add('store', () => (built ? built.table.closeAsync() : store.close()));
  const log = resources.hold('connection log', openConnectionLogOf(config, logger, counters), (open) => open.close());
  const useHandoff = config.transports.has('handoff');
  built = buildReceiver({
    store,
    log,
    clock,
    logger,
    counters,
    capacity: config.capacity,
    idleTimeoutMs: config.idleTimeoutMs,
    ackDelayMs: config.ackDelayMs,
    ackLatency,
    send: (bytes, port, address, via, cookie) => {
      if (via === 'geneve') sockets.geneveTransport?.send(sockets.endpoint!.frame(bytes, address, cookie), port, address);
      else sockets.transport?.send(bytes, port, address);
    },
    options: {
      authoritative: config.authoritative,
      allows: (address) => settings.allows(address),
      keyFor: (address) => settings.keyFor(address)?.secret,
      maxPeers: MAX_PEERS,
      capabilities: () => (useHandoff ? Capability.HANDOFF_V1 : 0) | (sockets.device ? Capability.GENEVE : 0),
      helloLimit: config.helloLimit,
      queryLimit: config.queryLimit,
    },
  });
  return { built, log };
}

interface EndpointInputs {
  logger: Logger;
  clock: MicroClock;
  counters: ReceiverCounters;
  settings: ReceiverSettings;
  log: ConnectionLog;
  built: BuiltReceiver;
  sockets: Sockets;
  environment: ReceiverEnvironment;
}

/** The Geneve device, NAT64 bypass, the handoff sockets and the one socket on UDP 6081 both Geneve transports share. */
async function openEndpoints(config: ReceiverConfig, inputs: EndpointInputs, resources: Resources): Promise<BypassService | undefined> {
  const { logger, clock, counters, settings, log, built, sockets, environment } = inputs;
  const { receiver } = built;
  const allows = (address: string) => settings.allows(address);
  if (config.transports.has('geneve')) {
    sockets.device = resources.hold('Geneve device', openGeneveDevice(config, logger, environment.openDevice ?? openHostStack), (device) => device?.close());
  }
  const bypass = config.transports.has('bypass')
    ? resources.hold(
        'bypass',
        startBypass(
          config,
          logger,
          log,
          clock,
          (packet, port, address) => sockets.geneveTransport?.send(packet, port, address),
          () => sockets.geneveTransport?.sendQueueCount() ?? 0,
          environment.bypass,
          (buffer, offsets, lengths, count, port, address) => sendBatch(sockets, buffer, offsets, lengths, count, port, address),
        ),
        (service) => service.close(),
      )
    : undefined;
  const onSendError = (error: Error) => {
    counters.add('sendErrors');
    logger.debug({ err: error }, 'send failed');
  };
  if (config.transports.has('handoff')) {
    const onDatagram = (bytes: Buffer, address: string, port: number) => receiver.handleDatagram(bytes, address, port);
    sockets.transport = await resources.acquire(
      'handoff sockets',
      () => openTransport({ addresses: config.listen, port: config.port, onDatagram, onSendError }),
      (open) => open.close(),
    );
  }
  const geneveEndpoint = sockets.device
    ? new GeneveEndpoint(receiver, sockets.device, counters, { optionClass: config.geneveOptionClass, keyFor: (address) => settings.keyFor(address) })
    : undefined;
  sockets.endpoint = geneveEndpoint;
  if (geneveEndpoint || bypass) {
    // One socket on UDP 6081 for both Geneve transports, told apart by bypass's Protocol Type and option class.
    let allowedAddress = '';
    let allowed = false;
    const onDatagram = (bytes: Buffer, offset: number, length: number, source: string, port: number, address: string) => {
      // A batch mostly comes from one gateway: its verdict is kept for the batch (a reload applies at the next).
      if (source !== allowedAddress) {
        allowedAddress = source;
        allowed = allows(source);
      }
      if (!allowed) counters.add('notAllowed');
      else if (bypass && isBypassPacket(bytes, offset, length)) bypass.handleDatagram(bytes, source, offset, length);
      // A view: the endpoint writes data packets out at once and copies what the handoff engine may keep.
      else if (geneveEndpoint) geneveEndpoint.handleDatagram(bytes.subarray(offset, offset + length), address, port);
      else bypass?.refuseOther();
    };
    const onBatchEnd = () => {
      allowedAddress = '';
      bypass?.flush();
    };
    sockets.geneveTransport = await resources.acquire(
      'Geneve sockets',
      async (): Promise<Transport> => {
        try {
          const batched = openBatchedTransport({
            addresses: config.listen,
            port: config.genevePort,
            onDatagram: (bytes, offset, length, address, port) => {
              bypass?.hold();
              onDatagram(bytes, offset, length, address, port, address);
            },
            onBatchEnd,
            onSendError,
          });
          sockets.batched = batched;
          return batched;
        } catch (error) {
          if (!(error instanceof TunError && error.code === 'ERR_TUN_BINDING')) throw error;
          logger.warn({ err: error }, 'UDP 6081 falls back to dgram sockets, one datagram per system call (the native binding is missing)');
          return openTransport({
            addresses: config.listen,
            port: config.genevePort,
            onDatagram: (bytes, address, port) => {
              onDatagram(bytes, 0, bytes.length, address.startsWith('::ffff:') ? address.slice(7) : address, port, address);
              onBatchEnd();
            },
            onSendError,
          });
        }
      },
      (open) => open.close(),
    );
  }
  return bypass;
}

/** A batch of frames to one gateway: one sendmmsg on the batched socket, else a datagram each. */
function sendBatch(sockets: Sockets, buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, port: number, address: string): void {
  if (sockets.batched !== undefined) return sockets.batched.sendBatch(buffer, offsets, lengths, count, port, address);
  for (let i = 0; i < count; i++) sockets.geneveTransport?.send(Buffer.from(buffer.buffer, buffer.byteOffset + offsets[i]!, lengths[i]!), port, address);
}

/** What `stats` and the metrics endpoint report: the engine's counters, then Geneve's and bypass's. */
function statsOf(built: BuiltReceiver, counters: ReceiverCounters, endpoint: GeneveEndpoint | undefined, bypass: BypassService | undefined) {
  const { receiver, table } = built;
  // `stats --json`: counters by group, as the gateway's are (README "Control socket").
  const groupedSnapshot = (all: boolean) => [
    ...counters.snapshot({ all }).map((counter) => ({ group: 'receiver', ...counter })),
    ...(endpoint?.dropCounters(all) ?? []).map((counter) => ({ group: 'geneve', ...counter })),
    ...(bypass?.counters(all) ?? []).map((counter) => ({ group: 'bypass', ...counter })),
  ];
  const snapshot = (all: boolean) => [...counters.snapshot({ all }), ...(endpoint?.dropCounters(all) ?? []), ...(bypass?.counters(all) ?? [])];
  const handlers: Record<string, ControlHandler> = {
    stats: (params) => ({ counters: groupedSnapshot(params.all === true), gauges: { entries: table.size, gateways: receiver.peerCount }, ...bypass?.stats() }),
    statsText: (params) => formatCounters(snapshot(params.all === true), params.explain === true) + (bypass?.statsText() ?? ''),
  };
  const metrics = (ackLatency: Histogram) => {
    const queue = receiver.commitQueue;
    const gauges = {
      entries: table.size,
      gateways: receiver.peerCount,
      commitQueueEntries: queue.entries,
      commitsInFlight: queue.commits,
      ...(bypass === undefined ? {} : { bypassTunnels: bypass.stats().bypassTunnels.length }),
    };
    return formatMetrics(receiverMetricFamilies(snapshot(true), gauges, ackLatency));
  };
  return { handlers, metrics };
}

async function serveMetrics(address: MetricsAddress, render: () => string, logger: Logger, resources: Resources): Promise<void> {
  let metrics: MetricsServer;
  try {
    metrics = await resources.acquire(
      'metrics endpoint',
      () => listenMetrics(address, render),
      (server) => server.close(),
    );
  } catch (error) {
    throw new FatalError(`cannot serve metrics on ${formatMetricsAddress(address)}: ${(error as Error).message}`, ExitCode.unavailable, { cause: error });
  }
  logger.info({ metrics: `http://${formatMetricsAddress(metrics.address)}/metrics` }, 'serving metrics');
}

function logStarted(config: ReceiverConfig, logger: Logger, built: BuiltReceiver, sockets: Sockets): void {
  const { transport, geneveTransport, device } = sockets;
  logger.info(
    {
      listen: transport?.bound ?? [],
      geneve: geneveTransport?.bound ?? [],
      ipv4Through: transport?.ipv4Through ?? geneveTransport?.ipv4Through,
      geneveDevice: device?.name,
      database: config.database,
      entries: built.table.size,
      gateways: built.receiver.peerCount,
    },
    'receiver started',
  );
  warnIfIpv6Only(config.listen, transport ?? geneveTransport, logger);
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

/**
 * The store, written by a worker thread so that SQLite runs beside the receiving thread. A file of an
 * older schema is migrated as it opens, which takes a while for a large history: said before and after.
 */
async function openStore(config: ReceiverConfig, logger: Logger, extendStart?: (ms: number, status: string) => void): Promise<ConnStore> {
  mkdirSync(dirname(config.database), { recursive: true, mode: DIRECTORY_MODE });
  const found = SqliteStore.fileSchemaVersion(config.database);
  const open = () => SqliteStore.openInWorker(config.database, { durability: config.durability });
  if (found === 0 || found >= SqliteStore.schemaVersion) return open();
  const fields = { database: config.database, schema: found, newSchema: SqliteStore.schemaVersion };
  logger.info(fields, 'bringing the database to the current schema before starting (one transaction, about 4 s of CPU per million history rows)');
  // The worker migrates; this thread tells systemd meanwhile, so that a large history does not hit TimeoutStartSec.
  const extend = () => extendStart?.(MIGRATION_EXTEND_MS, `migrating ${config.database} to schema ${SqliteStore.schemaVersion}`);
  extend();
  const keepExtending = setInterval(extend, MIGRATION_EXTEND_MS / 3);
  const started = performance.now();
  try {
    const store = await open();
    logger.info({ ...fields, seconds: Math.round(performance.now() - started) / 1000 }, 'database brought to the current schema');
    return store;
  } finally {
    clearInterval(keepExtending);
  }
}

/**
 * The connection log, its directory created if missing. Write and reopen failures are logged once
 * per outage and counted; lines and ACKs wait until a retry succeeds.
 */
function openConnectionLogOf(config: ReceiverConfig, logger: Logger, counters: ReceiverCounters): ConnectionLog {
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
