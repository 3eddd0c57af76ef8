// Counter names with one-line explanations, in the order `stats` lists them. Values live in one Float64Array
// and hot paths bump them by index. The gauges (sessions, BIB entries, ...) are read from the tables.

/** A counter as shown to operators (same shape as @nat64/service's CounterSnapshot). */
export interface CounterSnapshot {
  name: string;
  value: number;
  explanation: string;
}

/** Event counters kept by the tables, with their explanations. */
export const COUNTER_HELP = {
  sessionsCreated: 'sessions created by outbound or inbound packets',
  sessionsRestored: 'sessions restored from the authority (handed off)',
  bibCreated: 'BIB entries created (dynamic, static and restored)',
  sessionsTimedOut: 'sessions deleted because their lifetime ran out',
  sessionsTcpClosed: 'TCP sessions deleted after both FINs (V4 FIN + V6 FIN RCV timed out)',
  sessionsRst: 'TCP sessions deleted after a RST (TRANS timed out)',
  sessionsEvicted: 'handed-off sessions dropped from the cache (expired or to make room)',
  sessionsReleased: 'sessions deleted on request of the authority',
  sessionsDeletedByOperator: 'sessions deleted by an operator or with their static BIB entry',
  tcpProbesDue: 'established TCP sessions that went idle for TCP_EST and moved to TRANS',
  simultaneousOpens: 'held IPv4 SYNs answered by an IPv6 SYN in time (simultaneous open)',
  heldSynsExpired: 'held IPv4 SYNs handed back for ICMP port unreachable',
  noBib: 'inbound packets for a NAT transport address no BIB entry holds',
  filtered: 'inbound packets refused by address-dependent filtering',
  noSession: 'TCP segments other than SYN without a session',
  heldSyns: 'unsolicited IPv4 SYNs stored (no BIB entry or filtered)',
  heldSynLimit: 'unsolicited IPv4 SYNs dropped because the held-SYN store was full',
  poolExhausted: "new mappings refused: no free port in the client's pool4 address",
  clientLimit: 'new sessions refused: the client reached its session limit',
  tableFull: 'new sessions refused: session maximum reached and nothing to evict',
  restoreConflicts: 'restores refused: NAT port held by another client or client mapped elsewhere',
  restoreInvalid: 'restores refused: malformed entry (protocol, port, address or TCP state)',
  restoreNotInPool: 'restores refused: NAT address outside pool4',
  tableGrowths: 'times a table doubled its slots (past the maximum it reserved them for)',
} as const;
export type CounterName = keyof typeof COUNTER_HELP;

/** Gauges read from the tables when a snapshot is taken. */
export const GAUGE_HELP = {
  sessionsTcp: 'TCP sessions in the table',
  sessionsUdp: 'UDP sessions in the table',
  sessionsIcmp: 'ICMP query sessions in the table',
  sessionsHandedOff: 'sessions held only as a cache (handed off to their server)',
  bibEntries: 'BIB entries (all protocols)',
  bibStatic: 'static BIB entries',
  clients: 'IPv6 client addresses holding BIB entries',
  heldSynsNow: 'IPv4 SYNs held now',
  bytesAllocated: 'bytes of the tables in use (slots reserved but never used are not counted)',
} as const;
export type GaugeName = keyof typeof GAUGE_HELP;

const NAMES = Object.keys(COUNTER_HELP) as CounterName[];

/** Index of each counter in the values array. */
export const COUNTER = Object.fromEntries(NAMES.map((name, i) => [name, i])) as Readonly<Record<CounterName, number>>;

export function newCounterValues(): Float64Array {
  return new Float64Array(NAMES.length);
}

/** Counters then gauges, in definition order. */
export function counterSnapshot(values: Float64Array, gauges: Readonly<Record<GaugeName, number>>): CounterSnapshot[] {
  const out: CounterSnapshot[] = NAMES.map((name, i) => ({ name, value: values[i]!, explanation: COUNTER_HELP[name] }));
  for (const name of Object.keys(GAUGE_HELP) as GaugeName[]) {
    out.push({ name, value: gauges[name], explanation: GAUGE_HELP[name] });
  }
  return out;
}
