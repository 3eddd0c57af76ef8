// Opening the TUN device the gateway reads and writes: created and configured here (name, MTU, link
// up) or attached to one the operator made, which is left as it is. Failures become FatalErrors with
// the exit code a service manager can act on and a message that says what to check.

import { existsSync, readFileSync } from 'node:fs';
import { ExitCode, FatalError } from '@nat64/service';
import { TunError, openTun, type TunDevice } from '@nat64/tun';
import type { GatewayConfig } from './config.js';

/** Receive slots are the MTU rounded up to a cache line, as the device sizes them by default; 64 KiB with offload. */
export function slotSizeFor(mtu: number, offload = false): number {
  return offload ? OFFLOAD_SLOT_SIZE : Math.ceil(mtu / 64) * 64;
}

/** With offload the device hands over TCP segments of up to 64 KiB: slots for any IP packet. */
const OFFLOAD_SLOT_SIZE = 65600;

/** The MTU the device will have: the configured one, or for an existing device the one it has. */
export function deviceMtu(tun: GatewayConfig['tun']): number {
  if (tun.create) return tun.mtu;
  const path = `/sys/class/net/${tun.name}/mtu`;
  if (!existsSync(path)) {
    throw new FatalError(
      `tun.create is false but there is no interface "${tun.name}" to attach to; create it ` +
        `(ip tuntap add dev ${tun.name} mode tun) or let the gateway create it (tun.create: true)`,
      ExitCode.config,
    );
  }
  return Number(readFileSync(path, 'utf8').trim());
}

function exitCodeOf(error: TunError): ExitCode {
  switch (error.code) {
    case 'EPERM':
    case 'EACCES':
      return ExitCode.noPermission;
    case 'ENOENT':
    case 'ENODEV':
    case 'ENXIO':
    case 'EBUSY':
      return ExitCode.unavailable;
    case 'ERR_TUN_OPTION':
    case 'EINVAL':
      return ExitCode.config;
    case 'ERR_TUN_BINDING':
      return ExitCode.software;
    default:
      return ExitCode.osError;
  }
}

/** Opens the device; throws FatalError (77 without CAP_NET_ADMIN, 69 when busy or absent, ...). */
export function openDevice(tun: GatewayConfig['tun'], mtu: number): TunDevice {
  try {
    return openTun({
      name: tun.name,
      ...(tun.create ? { mtu, up: true } : {}),
      ...(tun.txQueueLength === undefined ? {} : { txQueueLength: tun.txQueueLength }),
      batchSize: tun.batchSize,
      slotSize: slotSizeFor(mtu, tun.offload),
      offload: tun.offload,
      receiveSegments: tun.receiveSegments,
    });
  } catch (error) {
    if (error instanceof TunError) throw new FatalError(error.message, exitCodeOf(error), { cause: error });
    throw error;
  }
}
