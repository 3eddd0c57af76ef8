// Looks up what the current network namespace already has under an interface name, so that an
// EINVAL from TUNSETIFF can say why ("lo exists and is not a TUN device"), and the kernel's own
// statistics and queue length of a device. Read after a failure or when counters are asked for,
// never on the packet path. /sys shows the namespace it was mounted in (`ip netns exec` mounts
// the namespace's own).
import { existsSync, readFileSync } from 'node:fs';
import { SPEC } from './constants.js';
import type { ExistingInterface } from './errors.js';

export function probeInterface(name: string, sysClassNet = '/sys/class/net'): ExistingInterface {
  // A pattern or a name with a path separator cannot name an existing interface here.
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('%')) {
    return { kind: 'absent', multiQueue: false };
  }
  const dir = `${sysClassNet}/${name}`;
  if (!existsSync(dir)) return { kind: 'absent', multiQueue: false };
  let flags: number;
  try {
    // TUN and TAP devices, and only they, have tun_flags, e.g. "0x1101".
    flags = Number.parseInt(readFileSync(`${dir}/tun_flags`, 'utf8').trim(), 16);
  } catch {
    return { kind: 'other', multiQueue: false };
  }
  if (!Number.isInteger(flags)) return { kind: 'other', multiQueue: false };
  const multiQueue = (flags & SPEC.IFF_MULTI_QUEUE) !== 0;
  if (flags & SPEC.IFF_TAP) return { kind: 'tap', multiQueue };
  if (flags & SPEC.IFF_TUN) return { kind: 'tun', multiQueue };
  return { kind: 'other', multiQueue };
}

/**
 * What the kernel counts for an interface (/sys/class/net/NAME/statistics). For a TUN device, tx is
 * toward the program reading it: txDropped are packets routed into the device that found its queue
 * (txQueueLength) full; rxDropped are packets the program wrote that the kernel dropped.
 */
export interface InterfaceStatistics {
  txQueueLength: number;
  txDropped: number;
  rxDropped: number;
}

/** The interface's statistics, or undefined when it is gone (or /sys shows another namespace). */
export function readInterfaceStatistics(name: string, sysClassNet = '/sys/class/net'): InterfaceStatistics | undefined {
  if (name === '' || name.includes('/') || name === '.' || name === '..') return undefined;
  const dir = `${sysClassNet}/${name}`;
  try {
    const read = (file: string) => Number(readFileSync(`${dir}/${file}`, 'utf8').trim());
    return { txQueueLength: read('tx_queue_len'), txDropped: read('statistics/tx_dropped'), rxDropped: read('statistics/rx_dropped') };
  } catch {
    return undefined;
  }
}
