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
 * on (rp_filter 1, strict) and uses the larger of the "all" and per-interface settings. When that
 * is strict for the TUN, the TUN gets 0 and a strict "all" becomes loose (2), which still drops
 * sources with no route at all. Otherwise (the systemd unit relaxes "all" before the receiver
 * starts, since it cannot write /proc/sys itself) nothing is touched.
 */
function relaxReversePath(device: string, logger: Logger): void {
  const base = '/proc/sys/net/ipv4/conf';
  const setting = (scope: string) => readFileSync(`${base}/${scope}/rp_filter`, 'utf8').trim();
  try {
    if (Math.max(Number(setting('all')), Number(setting(device))) !== 1) return;
    writeFileSync(`${base}/${device}/rp_filter`, '0');
    if (setting('all') === '1') {
      writeFileSync(`${base}/all/rp_filter`, '2');
      logger.warn({ device }, 'set net.ipv4.conf.all.rp_filter from 1 (strict) to 2 (loose) so Geneve inner packets reach this host');
    }
  } catch (error) {
    logger.warn(
      { err: error, device },
      `cannot relax the reverse-path filter for ${device}; set net.ipv4.conf.${device}.rp_filter=0 and net.ipv4.conf.all.rp_filter to 0 or 2`,
    );
  }
}
