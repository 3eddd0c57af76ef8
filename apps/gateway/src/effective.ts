// The effective configuration written back in the form of the configuration file: what
// `run --check --print` shows (defaults filled in, flags applied) and what a reload compares
// setting by setting. Loading what it prints gives the same configuration; the handoff key itself
// is never printed, only the file it comes from.

import { formatDuration, formatMetricsAddress } from '@nat64/service';
import { bytesToIpv6Text, uint32ToIpv4Text } from '@nat64/wire';
import type { GatewayConfig } from './config.js';

export type Settings = Record<string, unknown>;

export function effectiveSettings(config: GatewayConfig): Settings {
  const t = config.translation;
  const h = config.handoff;
  return {
    tun: {
      name: config.tun.name,
      mtu: config.tun.mtu,
      create: config.tun.create,
      batchSize: config.tun.batchSize,
      offload: config.tun.offload,
      coalesce: config.tun.coalesce,
      ...(config.tun.txQueueLength === undefined ? {} : { txQueueLength: config.tun.txQueueLength }),
    },
    prefix: config.prefix.text,
    refuseNonGlobalUnderWkp: config.refuseNonGlobalUnderWkp,
    pool4: config.pool4.map((entry) => ({
      address: uint32ToIpv4Text(entry.address),
      tcp: `${entry.ports.tcp.first}-${entry.ports.tcp.last}`,
      udp: `${entry.ports.udp.first}-${entry.ports.udp.last}`,
      icmp: `${entry.ports.icmp.first}-${entry.ports.icmp.last}`,
    })),
    staticBib: config.staticBib.map((entry) => ({
      protocol: entry.protocol,
      ipv6: `[${bytesToIpv6Text(entry.ipv6)}]:${entry.ipv6Port}`,
      ipv4: `${uint32ToIpv4Text(entry.ipv4)}:${entry.ipv4Port}`,
    })),
    filtering: config.filtering,
    dropUnsolicitedTcp: config.dropUnsolicitedTcp,
    timeouts: {
      udp: formatDuration(config.timeoutsMs.udp),
      tcpEstablished: formatDuration(config.timeoutsMs.tcpEstablished),
      tcpTransitory: formatDuration(config.timeoutsMs.tcpTransitory),
      icmp: formatDuration(config.timeoutsMs.icmp),
      fragment: formatDuration(config.timeoutsMs.fragment),
      allowBelowMinimum: config.allowShortTimeouts,
    },
    limits: { ...config.limits },
    translation: {
      lowestIpv6Mtu: t.lowestIpv6Mtu,
      ipv4NextHopMtu: t.ipv4NextHopMtu,
      ipv6NextHopMtu: t.ipv6NextHopMtu,
      ...(t.ipv6Address === undefined ? {} : { ipv6Address: bytesToIpv6Text(t.ipv6Address) }),
      ipv4Address: uint32ToIpv4Text(t.ipv4Address),
      zeroizeTrafficClass: t.zeroizeTrafficClass,
      amendUdpChecksumZero: t.amendUdpChecksumZero,
      icmpErrorsFromReporter: t.icmpErrorsFromReporter,
      icmpErrorRate: { ...t.icmpErrorRate },
    },
    handoff: {
      mode: h.mode,
      ...(h.keyFile === undefined ? {} : { keyFile: h.keyFile }),
      mtu: h.mtu,
      flushDelay: formatDuration(h.flushDelayMs),
      missQueue: { ...h.missQueue },
      transport: h.transport,
      geneve: {
        optionClass: h.geneve.optionClass,
        keyId: h.geneve.keyId,
        createdPackets: h.geneve.createdPackets,
        refresh: formatDuration(h.geneve.refreshMs),
        flowHashSeed: h.geneve.flowHashSeed,
      },
      bypass: {
        secretFile: h.bypass.secretFile,
        message: h.bypass.message,
        linkLocal: h.bypass.linkLocal,
        offerInterval: formatDuration(h.bypass.offerIntervalMs),
        reachableTime: formatDuration(h.bypass.reachableMs),
        macRotation: formatDuration(h.bypass.macRotationMs),
        macGrace: formatDuration(h.bypass.macGraceMs),
        mtu: h.bypass.mtu,
        flowHashSeed: h.bypass.flowHashSeed,
        udpChecksum: h.bypass.udpChecksum,
      },
    },
    logSessions: config.logSessions,
    statsInterval: formatDuration(config.statsIntervalMs),
    control: config.control,
    ...(config.metrics === undefined ? {} : { metrics: formatMetricsAddress(config.metrics) }),
    routes: config.routes,
    logLevel: config.logLevel,
  };
}

/** Settings as dotted paths to leaf values (arrays are leaves), for comparing two configurations. */
export function flattenSettings(settings: Settings, prefix = ''): Map<string, string> {
  const flat = new Map<string, string>();
  for (const [key, value] of Object.entries(settings)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [inner, leaf] of flattenSettings(value as Settings, path)) flat.set(inner, leaf);
    } else {
      flat.set(path, JSON.stringify(value));
    }
  }
  return flat;
}
