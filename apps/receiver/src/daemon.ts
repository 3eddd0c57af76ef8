// Assembles a running receiver from a validated config: store, connection log (with crash
// recovery), cookie secret, table, engine, sockets, control socket and timers. `nat64-receiver run`
// calls it and waits for a signal; tests call it directly.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConnTable, SqliteStore, type ConnStore } from '@nat64/conntrack';
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
import { openConnectionLog, type ConnectionLog } from './conn-log.js';
import { CookieJar, newCookieSecret, COOKIE_SECRET_BYTES } from './cookies.js';
import { createReceiverCounters } from './counters.js';
import { findMissingLines } from './log-recovery.js';
import { PEER_SIDE_PREFIX, parseStoredPeers } from './peers.js';
import { CommitClock, UNLOGGED_COMMITS_RECORD, readUnloggedCommits } from './commit-pipeline.js';
import { Receiver } from './receiver.js';
import { openTransport, type Transport } from './transport.js';
import { GeneveEndpoint } from './geneve-endpoint.js';
import { openHostStack } from './host-stack.js';
import type { ReceiverConfig } from './config.js';
import { ReceiverSettings } from './reload.js';

const COOKIE_SECRET_RECORD = 'cookie-secret';
const TICK_MS = 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;
const MAX_PEERS = 100_000;

export interface ReceiverDaemon {
  readonly receiver: Receiver;
  /** Handoff v1 on UDP 62863, unless the transport is geneve only. */
  readonly transport: Transport | undefined;
  /** Geneve on UDP 6081, when enabled and its TUN device could be opened. */
  readonly geneve: { transport: Transport; endpoint: GeneveEndpoint; device: TunDevice } | undefined;
  readonly counters: ReturnType<typeof createReceiverCounters>;
  /** Reopens the connection log file (SIGHUP). */
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
}

export async function startReceiver(config: ReceiverConfig, logger: Logger, environment: ReceiverEnvironment = {}): Promise<ReceiverDaemon> {
  const clock = environment.clock ?? systemMicroClock();
  const store = await openStore(config);
  let log: ConnectionLog | undefined;
  let table: ConnTable | undefined;
  let transport: Transport | undefined;
  let geneveTransport: Transport | undefined;
  let device: TunDevice | undefined;
  let control: ControlServer | undefined;
  let metrics: MetricsServer | undefined;
  try {
    log = openConnectionLog(config.connectionLog === '-' ? { fd: 1 } : { file: config.connectionLog }, config.timeZone);
    recoverLog(store, log, logger);
    const cookies = new CookieJar(cookieSecret(store));
    const commitClock = new CommitClock(clock, Math.max(0, ...readUnloggedCommits(store.getSide(UNLOGGED_COMMITS_RECORD))));
    const storedPeers = parseStoredPeers(store.listSide(PEER_SIDE_PREFIX));
    table = ConnTable.open(store, {
      capacity: config.capacity,
      idleTimeout: Number.isFinite(config.idleTimeoutMs) && config.idleTimeoutMs > 0 ? config.idleTimeoutMs * 1000 : Infinity,
      clock: commitClock.read,
    });
    const counters = createReceiverCounters();
    const ackLatency = newAckLatencyHistogram();
    const settings = environment.settings ?? new ReceiverSettings(config);
    const allows = (address: string) => settings.allows(address);
    const keyFor = (address: string) => settings.keyFor(address);
    const useHandoff = config.transport !== 'geneve';
    device = config.transport === 'handoff' ? undefined : openGeneveDevice(config, logger, environment.openDevice ?? openHostStack);
    let endpoint: GeneveEndpoint | undefined;
    let receiver: Receiver;
    receiver = new Receiver(
      {
        table,
        commitClock,
        log,
        cookies,
        clock,
        counters,
        ackLatency,
        logger: logger.child({ component: 'receiver' }),
        send: (bytes, port, address, via, cookie) => {
          if (via === 'geneve') geneveTransport?.send(endpoint!.frame(bytes, address, cookie), port, address);
          else transport?.send(bytes, port, address);
        },
        scheduleFlush: () => setImmediate(() => void receiver.flush()),
        options: {
          authoritative: config.authoritative,
          allows,
          keyFor: (address) => keyFor(address)?.secret,
          maxPeers: MAX_PEERS,
          capabilities: () => (useHandoff ? Capability.HANDOFF_V1 : 0) | (device ? Capability.GENEVE : 0),
          helloLimit: config.helloLimit,
          queryLimit: config.queryLimit,
        },
      },
      storedPeers,
    );
    const onSendError = (error: Error) => {
      counters.add('sendErrors');
      logger.debug({ err: error }, 'send failed');
    };
    if (useHandoff) {
      transport = await openTransport({ addresses: config.listen, port: config.port, onDatagram: (bytes, address, port) => receiver.handleDatagram(bytes, address, port), onSendError });
    }
    if (device) {
      const geneveEndpoint = new GeneveEndpoint(receiver, device, counters, { optionClass: config.geneveOptionClass, keyFor });
      endpoint = geneveEndpoint;
      geneveTransport = await openTransport({
        addresses: config.listen,
        port: config.genevePort,
        onDatagram: (bytes, address, port) => {
          if (allows(address.startsWith('::ffff:') ? address.slice(7) : address)) geneveEndpoint.handleDatagram(bytes, address, port);
          else counters.add('notAllowed');
        },
        onSendError,
      });
    }
    const openTable = table;
    const openLog = log;
    const openEndpoint = endpoint;
    const snapshot = (all: boolean) => [...counters.snapshot({ all }), ...(openEndpoint?.dropCounters(all) ?? [])];
    control = await listenControl(config.control, {
      stats: (params) => ({ counters: snapshot(params.all === true), entries: openTable.size, gateways: receiver.peerCount }),
      statsText: (params) => formatCounters(snapshot(params.all === true), params.explain === true),
      ...environment.controlHandlers,
    });
    if (config.metrics !== undefined) {
      const render = () => {
        const queue = receiver.commitQueue;
        const gauges = { entries: openTable.size, gateways: receiver.peerCount, commitQueueEntries: queue.entries, commitsInFlight: queue.commits };
        return formatMetrics(receiverMetricFamilies(snapshot(true), gauges, ackLatency));
      };
      try {
        metrics = await listenMetrics(config.metrics, render);
      } catch (error) {
        throw new FatalError(`cannot serve metrics on ${formatMetricsAddress(config.metrics)}: ${(error as Error).message}`, ExitCode.unavailable, { cause: error });
      }
      logger.info({ metrics: `http://${formatMetricsAddress(metrics.address)}/metrics` }, 'serving metrics');
    }
    const ticker = setInterval(() => receiver.tick(), TICK_MS);
    let lastPrune = 0;
    const pruner = setInterval(() => {
      const now = clock();
      if (now - lastPrune < PRUNE_EVERY_MS * 1000) return;
      lastPrune = now;
      try {
        const pruned = openTable.prune(now - settings.retentionMs * 1000, 100_000);
        if (pruned > 0) logger.info({ pruned }, 'pruned history past the retention period');
      } catch (error) {
        logger.error({ err: error }, 'pruning history failed');
      }
    }, TICK_MS);
    logger.info(
      { listen: transport?.bound ?? [], geneve: geneveTransport?.bound ?? [], geneveDevice: device?.name, database: config.database, entries: table.size, gateways: receiver.peerCount },
      'receiver started',
    );
    const openTransports = [transport, geneveTransport].filter((open): open is Transport => open !== undefined);
    const openControl = control;
    const openMetrics = metrics;
    const openDevice = device;
    return {
      receiver,
      transport,
      geneve: geneveTransport && endpoint && device ? { transport: geneveTransport, endpoint, device } : undefined,
      counters,
      reopenLog: () => openLog.reopen(),
      async close() {
        clearInterval(ticker);
        clearInterval(pruner);
        for (const open of openTransports) await open.close();
        openDevice?.close();
        await receiver.flush();
        await receiver.settle();
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
    await control?.close();
    await metrics?.close();
    if (table) await table.closeAsync();
    else store.close();
    log?.close();
    throw error;
  }
}

/** The store, written by a worker thread so that SQLite runs beside the receiving thread. */
/**
 * The TUN device Geneve inner packets go through. Without it (no CAP_NET_ADMIN, no /dev/net/tun)
 * a receiver asked for Geneve alone cannot run; one asked for both runs with handoff messages only.
 */
function openGeneveDevice(config: ReceiverConfig, logger: Logger, open: (name: string, logger: Logger) => TunDevice): TunDevice | undefined {
  try {
    return open(config.geneveTun, logger);
  } catch (error) {
    if (config.transport === 'geneve') {
      throw new FatalError(`cannot open the Geneve TUN device ${config.geneveTun}: ${(error as Error).message}`, ExitCode.noPermission, { cause: error });
    }
    logger.warn({ err: error }, `Geneve disabled: cannot open the TUN device ${config.geneveTun}; receiving handoff messages only`);
    return undefined;
  }
}

function openStore(config: ReceiverConfig): Promise<ConnStore> {
  mkdirSync(dirname(config.database), { recursive: true, mode: 0o750 });
  return SqliteStore.openInWorker(config.database, { durability: config.durability });
}

/** Writes the lines of a last commit that a crash kept out of the log. */
function recoverLog(store: ConnStore, log: ConnectionLog, logger: Logger): void {
  const missing = findMissingLines(store, log.lastLoggedAt(), log.zone);
  if (missing.length === 0) return;
  for (const line of missing) log.append(line);
  log.flush();
  logger.warn({ lines: missing.length }, 'wrote connection log lines of commits that a crash kept out of the log');
}

/** The cookie secret, made and stored on first start so cookies survive restarts. */
function cookieSecret(store: ConnStore): Uint8Array {
  const stored = store.getSide(COOKIE_SECRET_RECORD);
  if (stored && stored.length === COOKIE_SECRET_BYTES) return stored;
  const secret = newCookieSecret();
  store.commit([], [[COOKIE_SECRET_RECORD, secret]]);
  return secret;
}
