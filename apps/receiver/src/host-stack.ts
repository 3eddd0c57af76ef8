// Delivery of Geneve inner packets into this host's stack: a TUN device the receiver creates and
// brings up, and the reverse-path filter relaxed for it, since the inner packets come from the
// gateway's NAT addresses, which this host routes elsewhere (toward the gateway).
import { readFileSync, writeFileSync } from 'node:fs';
import { openTun, type TunDevice } from '@nat64/tun';
import type { Logger } from '@nat64/service';

const MTU = 1500;

export function openHostStack(name: string, logger: Logger): TunDevice {
  const device = openTun({ name, mtu: MTU, up: true, batchSize: 1 });
  // Nothing is read from the device: the host's replies go back through its normal routes.
  device.unref();
  relaxReversePath(device.name, logger);
  return device;
}

/**
 * Linux drops a packet when its source would not be routed back out of the interface it came in
 * on (rp_filter 1, strict) and uses the larger of the "all" and per-interface settings. The TUN
 * gets 0; a strict "all" becomes loose (2), which still drops sources with no route at all.
 */
function relaxReversePath(device: string, logger: Logger): void {
  const base = '/proc/sys/net/ipv4/conf';
  try {
    writeFileSync(`${base}/${device}/rp_filter`, '0');
    if (readFileSync(`${base}/all/rp_filter`, 'utf8').trim() === '1') {
      writeFileSync(`${base}/all/rp_filter`, '2');
      logger.warn({ device }, 'set net.ipv4.conf.all.rp_filter from 1 (strict) to 2 (loose) so Geneve inner packets reach this host');
    }
  } catch (error) {
    logger.warn({ err: error, device }, `cannot relax the reverse-path filter for ${device}; set net.ipv4.conf.${device}.rp_filter=0 and net.ipv4.conf.all.rp_filter to 0 or 2`);
  }
}
