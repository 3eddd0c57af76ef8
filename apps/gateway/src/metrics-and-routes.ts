// What `run` starts beside the datapath when asked: the metrics endpoint (metrics.ts) and the routes
// into the device (routes.ts); without `routes`, a check that the prefix and pool4 reach the device.
import { ExitCode, FatalError, formatMetricsAddress, listenMetrics, type Logger, type MetricsServer } from '@nat64/service';
import type { TunDevice } from '@nat64/tun';
import { uint32ToIpv4Text } from '@nat64/wire';
import type { GatewayConfig } from './config.js';
import type { EngineParts } from '@nat64/gateway-engine';
import type { Handoff } from '@nat64/gateway-handoff';
import { renderGatewayMetrics } from './metrics.js';
import { RouteKeeper, gatewayRoutes, warnUnroutedDestinations } from './routes.js';

/** How long after start a device the gateway created is checked for routes: time for an ifup hook or script to add them. */
export const ROUTE_CHECK_DELAY_MS = 5_000;

export async function startMetrics(
  config: GatewayConfig,
  logger: Logger,
  parts: EngineParts,
  device: TunDevice,
  handoff: Handoff | null,
): Promise<MetricsServer | undefined> {
  if (config.metrics === undefined) return undefined;
  try {
    const server = await listenMetrics(config.metrics, () => renderGatewayMetrics(parts, device, handoff));
    logger.info({ metrics: `http://${formatMetricsAddress(server.address)}/metrics` }, 'serving metrics');
    return server;
  } catch (error) {
    throw new FatalError(`cannot serve metrics on ${formatMetricsAddress(config.metrics)}: ${(error as Error).message}`, ExitCode.unavailable, {
      cause: error,
    });
  }
}

/**
 * With `routes`, adds them and keeps them; otherwise checks them (an attached device at once, one the
 * gateway created after ROUTE_CHECK_DELAY_MS, since its routes cannot exist before it does).
 */
export async function startRoutes(config: GatewayConfig, logger: Logger, device: TunDevice): Promise<RouteKeeper | undefined> {
  const routes = gatewayRoutes(
    config.prefix.text,
    config.pool4.map((entry) => uint32ToIpv4Text(entry.address)),
  );
  const routesLogger = logger.child({ component: 'routes' });
  if (!config.routes) {
    const check = () => void warnUnroutedDestinations(device.name, routes, routesLogger);
    if (config.tun.create) setTimeout(check, ROUTE_CHECK_DELAY_MS).unref();
    else check();
    return undefined;
  }
  const keeper = new RouteKeeper(device.name, routes, routesLogger);
  try {
    await keeper.start();
  } catch (error) {
    await keeper.stop();
    throw new FatalError((error as Error).message, ExitCode.osError, { cause: error });
  }
  return keeper;
}
