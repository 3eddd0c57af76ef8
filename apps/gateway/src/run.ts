// `nat64-gateway run`: the gateway's life from configuration to exit. The whole configuration is read
// and validated (and the tables built) before the TUN device is opened; then the device, the engine,
// handoff (unless off), the timers and the control socket start, and a SIGTERM stops reading, closes
// the device (which removes an interface the gateway created) and exits 0. Receivers keep what was
// handed to them: the next start is a new epoch, and old flows come back through QUERY. SIGHUP never
// stops it: it reloads the configuration (reload.ts).

import {
  ConfigError,
  ExitCode,
  FatalError,
  Resources,
  createLogger,
  listenControl,
  prepareControlPath,
  waitForShutdown,
  type ControlHandler,
  type Logger,
} from '@nat64/service';
import { ServiceNotifier } from '@nat64/sd-notify';
import { readInterfaceStatistics, type TunDevice } from '@nat64/tun';
import { uint32ToIpv4Text } from '@nat64/wire';
import { loadGatewayConfig, shortTimeouts, type GatewayConfig, type RawSettings } from './config.js';
import { controlHandlers } from './control.js';
import { deviceMtu, openDevice, slotSizeFor } from './device.js';
import { effectiveSettings } from './effective.js';
import { ExpiryTimer, GW, buildEngine, refusesNonGlobal, type EngineParts } from '@nat64/gateway-engine';
import { createHandoff, type Handoff } from '@nat64/gateway-handoff';
import { Reloader, withKeySlot } from './reload.js';
import { logSessionChanges } from './session-log.js';
import { startMetrics, startRoutes } from './metrics-and-routes.js';

export interface RunOptions {
  /** --config FILE */
  readonly file?: string | undefined;
  /** Settings from flags, by dotted key. */
  readonly flags: RawSettings;
  /** --check: validate and exit. */
  readonly check?: boolean;
  /** --print (with or without --check): validate, print the effective configuration as JSON and exit. */
  readonly print?: boolean;
}

/** Loads and validates everything that can be checked without touching the system. */
function prepare(options: RunOptions): { config: GatewayConfig; parts: EngineParts; mtu: number } {
  try {
    const config = loadGatewayConfig({ file: options.file, flags: options.flags });
    const mtu = deviceMtu(config.tun);
    const parts = buildEngine(config, { maxInputSize: slotSizeFor(mtu, config.tun.offload), inputBatchSize: config.tun.batchSize });
    return { config, parts, mtu };
  } catch (error) {
    if (error instanceof ConfigError) throw new FatalError(`invalid configuration: ${error.message}`, ExitCode.config, { cause: error });
    throw error;
  }
}

/** Runs the gateway until SIGTERM or SIGINT; resolves with the exit code. */
export async function runGateway(options: RunOptions): Promise<number> {
  const { config, parts, mtu } = prepare(options);
  if (options.print === true) {
    process.stdout.write(`${JSON.stringify(effectiveSettings(config), null, 2)}\n`);
    return ExitCode.ok;
  }
  if (options.check === true) {
    process.stdout.write('configuration OK\n');
    return ExitCode.ok;
  }
  // What can still fail without the device: before it is opened.
  prepareControlPath(config.control);
  const logger = createLogger({ name: 'nat64-gateway', level: config.logLevel });
  const notifier = new ServiceNotifier({ onError: (error) => logger.warn({ err: error }, 'cannot notify systemd ($NOTIFY_SOCKET)') });
  // Before anything is opened: from here on a SIGHUP never ends the process (its default action would).
  let reloader: Reloader | 'starting' | 'stopping' = 'starting';
  const onHangup = () => {
    if (typeof reloader === 'string') logger.warn(`SIGHUP while ${reloader}: ignored`);
    else reloadNotifying(notifier, reloader, 'SIGHUP');
  };
  process.on('SIGHUP', onHangup);
  // Also before: a SIGTERM while starting stops the gateway cleanly once it has started.
  const shutdown = waitForShutdown();
  const short = shortTimeouts(config);
  if (short.length > 0) logger.warn({ timeouts: short }, 'session timeouts below the RFC 6146 minimums (timeouts.allowBelowMinimum): for labs only');
  let stopLoggingSessions: (() => void) | undefined;
  const setLogSessions = (on: boolean) => {
    stopLoggingSessions?.();
    stopLoggingSessions = on ? logSessionChanges(parts.engine.events, logger.child({ component: 'sessions' })) : undefined;
  };
  setLogSessions(config.logSessions);

  // Released in reverse order on stop, or when a step fails: the device last.
  const resources = new Resources(logger);
  const { device, failed, reloads } = await resources.start(() => startGateway({ options, config, parts, mtu, logger, notifier, setLogSessions }, resources));
  logStart(logger, config, device);
  reloader = reloads;
  notifier.ready(`translating ${config.prefix.text} through ${device.name}`);

  const outcome = await Promise.race([shutdown, failed]);
  reloader = 'stopping';
  notifier.stopping();
  // Closing the device stops reading at once; every batch was written when its callback returned.
  await resources.stop();
  let code: number = ExitCode.ok;
  if (outcome instanceof Error) {
    logger.error({ err: outcome }, 'the TUN device failed; stopping');
    code = ExitCode.osError;
  } else {
    logger.info({ signal: outcome, sessions: parts.table.sessionCount }, 'stopped');
  }
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  return code;
}

interface StartInputs {
  options: RunOptions;
  config: GatewayConfig;
  parts: EngineParts;
  mtu: number;
  logger: Logger;
  notifier: ServiceNotifier;
  setLogSessions(on: boolean): void;
}

/** Opens the device, then starts handoff, the timers, the control socket, metrics and routes, each held by `resources`. */
async function startGateway(inputs: StartInputs, resources: Resources): Promise<{ device: TunDevice; failed: Promise<Error>; reloads: Reloader }> {
  const { options, config, parts, mtu, logger, notifier, setLogSessions } = inputs;
  const device = resources.hold('TUN device', openDevice(config.tun, mtu), (open) => open.close());
  let failure: ((error: Error) => void) | undefined;
  const failed = new Promise<Error>((resolve) => (failure = resolve));
  parts.engine.attach(device, (error) => failure?.(error));
  if (config.tun.coalesce && device.udpSegmentation !== true) {
    logger.warn('tun.coalesce: this kernel takes no UDP segmentation offload through TUN (TUN_F_USO4/6, Linux 6.2+); only TCP segments are coalesced');
  }
  // Started before the first batch can arrive (the device's callbacks come on a later turn), so no session is missed.
  const signing = withKeySlot(config);
  const handoff = createHandoff(parts, signing.config.handoff, {
    logger: logger.child({ component: 'handoff' }),
    pool4: config.pool4.map((entry) => entry.address),
  });
  if (handoff) {
    handoff.start();
    resources.add('handoff', () => handoff.stop());
  }
  const expiry = new ExpiryTimer(parts.engine, { onTick: () => notifier.tick() });
  expiry.start();
  resources.add('expiry timer', () => expiry.stop());
  let summary: NodeJS.Timeout | undefined;
  const setStatsInterval = (ms: number) => {
    clearInterval(summary);
    summary = ms > 0 ? setInterval(() => logSummary(logger, parts, device, handoff), ms) : undefined;
    summary?.unref();
  };
  resources.add('counter summary', () => clearInterval(summary));
  const live = { logger, table: parts.table, handoffKey: signing.slot, setStatsInterval, setLogSessions };
  const reloads = new Reloader({ file: options.file, flags: options.flags }, config, live);
  await listenControlSocket(
    config,
    controlHandlers(config, parts, device, handoff, () => reloadNotifying(notifier, reloads, 'control')),
    resources,
  );
  await resources.acquire(
    'metrics endpoint',
    () => startMetrics(config, logger, parts, device, handoff),
    (metrics) => metrics?.close(),
  );
  await resources.acquire(
    'routes',
    () => startRoutes(config, logger, device),
    (routes) => routes?.stop(),
  );
  setStatsInterval(config.statsIntervalMs);
  return { device, failed, reloads };
}

async function listenControlSocket(config: GatewayConfig, handlers: Record<string, ControlHandler>, resources: Resources): Promise<void> {
  try {
    await resources.acquire(
      'control socket',
      () => listenControl(config.control, handlers),
      (control) => control.close(),
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'EACCES' ? ExitCode.noPermission : ExitCode.unavailable;
    throw new FatalError(`cannot open the control socket ${config.control}: ${(error as Error).message}`, code, { cause: error });
  }
}

/** A reload as systemd's Type=notify wants it told: RELOADING=1, then READY=1 whatever the outcome. */
function reloadNotifying(notifier: ServiceNotifier, reloader: Reloader, trigger: 'SIGHUP' | 'control') {
  notifier.reloading();
  try {
    return reloader.reload(trigger);
  } finally {
    notifier.ready();
  }
}

function logStart(logger: Logger, config: GatewayConfig, device: TunDevice): void {
  const pool4 = config.pool4.map((entry) => uint32ToIpv4Text(entry.address));
  logger.info(
    {
      tun: device.name,
      mtu: device.mtu,
      txQueueLength: readInterfaceStatistics(device.name)?.txQueueLength,
      prefix: config.prefix.text,
      pool4,
      refuseNonGlobal: refusesNonGlobal(config),
      handoff: config.handoff.mode,
      control: config.control,
      routes: [`ip -6 route add ${config.prefix.text} dev ${device.name}`, ...pool4.map((a) => `ip route add ${a}/32 dev ${device.name}`)],
    },
    config.routes
      ? 'nat64-gateway running; it routes the prefix and pool4 into the TUN device itself'
      : 'nat64-gateway running; route the prefix and pool4 into the TUN device',
  );
}

function logSummary(logger: Logger, parts: EngineParts, device: TunDevice, handoff: Handoff | null): void {
  const c = parts.engine.counterValues;
  logger.info(
    {
      ...handoff?.summary(),
      sessions: parts.table.sessionCount,
      bibEntries: parts.table.bibCount,
      rxPackets: device.counters.rxPackets,
      txPackets: device.counters.txPackets,
      forwarded64: c[GW.forwarded64],
      forwarded46: c[GW.forwarded46],
      hairpinned: c[GW.hairpinned],
      txDropped: device.counters.txDropped,
    },
    'counters',
  );
}
