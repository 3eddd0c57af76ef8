// What a tunnel changes on this host, and undoing it (bypass §9): IPv6 on the TAP device even
// where the host disables it, PREFIX::OWN-IPV4/128 on it without duplicate address detection,
// and source-based policy routing so that replies leave through the tunnel they belong to:
//
//   ip -6 rule add from PREFIX::OWN-IPV4 lookup T pref T    (T = bypassTable + tunnel index)
//   ip -6 route add default via GATEWAY-LINK-LOCAL dev TAP table T
//
// Every reply to a bypassed client has the address the client connected to as its source, so
// the rule picks the tunnel of the gateway whose prefix that is. Gateways with distinct prefixes
// each get their own rule; the TAP device is not persistent, so a crash takes the device, its
// address and its routes with it, and only the rules stay behind for removeStale() at the next
// start. Control-plane work only: `ip` runs synchronously, once per tunnel event.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** tun_flags bit of a TAP device (Linux include/uapi/linux/if_tun.h). */
const IFF_TAP = 0x0002;

export interface TunnelRoute {
  device: string;
  /** The TAP device's MAC, stable for the tunnel so a gateway's neighbor cache outlives our restarts. */
  mac: string;
  /** PREFIX::OWN-IPV4, as text. */
  address: string;
  /** The gateway's address on the tunnel link: the offer's IPv6 source. */
  nextHop: string;
  table: number;
}

export interface HostNetwork {
  /** Enables IPv6 on the device and adds address, route and rule. Throws with `ip`'s message. */
  setUp(route: TunnelRoute): void;
  /** Points the tunnel's default route at a new next hop. */
  moveNextHop(route: TunnelRoute): void;
  /** Removes the rule (the device's own address and routes go with the device). Never throws. */
  tearDown(route: TunnelRoute): void;
  /** Removes rules in [table, table + count) and TAP devices named prefix+N left by a crash; returns what it removed. */
  removeStale(tapPrefix: string, table: number, count: number): string[];
}

function ip(args: string[], input?: string): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input === undefined ? {} : { input }) });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`ip ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`, { cause: error });
  }
}

function writeSysctl(device: string, name: string, value: string): void {
  writeFileSync(`/proc/sys/net/ipv6/conf/${device}/${name}`, value);
}

export const linuxHostNetwork: HostNetwork = {
  setUp(route) {
    if (!existsSync('/proc/sys/net/ipv6')) throw new Error('this kernel has no IPv6 (booted with ipv6.disable=1?); bypass needs it on the tunnel devices');
    // The per-device settings win over net.ipv6.conf.all, so a host that disables IPv6 keeps
    // it disabled everywhere else. No router advertisements or autoconfiguration from gateways.
    writeSysctl(route.device, 'disable_ipv6', '0');
    writeSysctl(route.device, 'accept_ra', '0');
    writeSysctl(route.device, 'autoconf', '0');
    ip(
      ['-6', '-batch', '-'],
      [
        `link set dev ${route.device} address ${route.mac}`,
        `addr add ${route.address}/128 dev ${route.device} nodad`,
        `route add default via ${route.nextHop} dev ${route.device} table ${route.table}`,
        `rule add from ${route.address} lookup ${route.table} pref ${route.table}`,
      ].join('\n'),
    );
  },

  moveNextHop(route) {
    ip(['-6', 'route', 'replace', 'default', 'via', route.nextHop, 'dev', route.device, 'table', String(route.table)]);
  },

  tearDown(route) {
    try {
      ip(['-6', 'rule', 'del', 'pref', String(route.table)]);
    } catch {
      // Already gone: nothing to undo.
    }
  },

  removeStale(tapPrefix, table, count) {
    const removed: string[] = [];
    for (const line of ip(['-6', 'rule', 'show']).split('\n')) {
      const pref = Number.parseInt(line, 10);
      if (Number.isInteger(pref) && pref >= table && pref < table + count) {
        ip(['-6', 'rule', 'del', 'pref', String(pref)]);
        removed.push(`rule ${line.trim()}`);
      }
    }
    const pattern = new RegExp(`^${tapPrefix.replace(/[.]/g, '\\.')}\\d+$`);
    for (const name of readdirSync('/sys/class/net')) {
      if (!pattern.test(name)) continue;
      let flags = 0;
      try {
        flags = Number.parseInt(readFileSync(`/sys/class/net/${name}/tun_flags`, 'utf8').trim(), 16);
      } catch {
        continue;
      }
      if ((flags & IFF_TAP) === 0) continue;
      ip(['link', 'del', name]);
      removed.push(`device ${name}`);
    }
    return removed;
  },
};
