// Handoff in the gateway: the composition of the agent (@nat64/handoff-agent, the protocol as pure
// state) with the transport that reaches the hosts (transports/, chosen once from handoff.transport),
// the session table (tracker.ts) and the cache misses (misses.ts), plus the timer that runs the agent
// and the views `stats` and `hosts` show. Built only in modes announce and full; mode off builds
// nothing and sends nothing.
//
// Wake-ups: the agent's work rides the datapath's own batches. Every batch end runs its due timers and
// flushes what waited flushDelay; the last batch of a burst (the device's queue read empty) sends every
// open datagram, so entries do not wait for a wake-up of their own. ACKs arrive as packets of those
// batches. One timer remains, the idle fallback: set to the agent's next deadline (or the housekeeping
// interval of the miss queue and the transport, while they have work), moved only when a batch leaves
// work due more than a millisecond earlier; when it fires with nothing due (the batches did the work),
// it is set again for the next deadline without a batch of its own.

import { HandoffAgent, PEER_STATE_NAMES, type HandoffAgentOptions, type PeerState } from '@nat64/handoff-agent';
import { Size, type HandoffEntry } from '@nat64/handoff-codec';
import type { Nat64Table } from '@nat64/nat64';
import { Counters, Resources, type Logger } from '@nat64/service';
import { uint32ToIpv4Text } from '@nat64/wire';
import type { BatchClock, Engine } from '@nat64/gateway-engine';
import { hostRows, type HostRow } from './hosts.js';
import type { HandoffConfig } from './config.js';
import { IMPL } from './constants.js';
import { HANDOFF_COUNTERS, type HandoffCounterName } from './counters.js';
import { CLIENT_TOKEN_BASE, ClientMissHook, ClientMissQueue } from './client-misses.js';
import { EvictedFlows } from './evicted-flows.js';
import { MissQueue } from './misses.js';
import { MappingTracker } from './tracker.js';
import { TRANSPORTS, needsHousekeeping, type CounterLine, type HandoffTransport, type TransportContext } from './transports/index.js';

/** What handoff uses of the gateway. */
export interface HandoffParts {
  readonly engine: Engine;
  readonly table: Nat64Table;
  readonly clock: BatchClock;
}

export interface HandoffOptions {
  readonly logger: Logger;
  /** The gateway's epoch; random by default (a new one at every start, section 6.2). */
  readonly epoch?: bigint;
  /** Wall-clock microseconds since 1970 for entry times; default from the engine's batch clock. */
  readonly wallMicros?: () => number;
  /** Agent settings tests shorten (RTO, HELLO retries); production uses the agent's defaults. */
  /** The pool4 addresses, where a TCP segment without a session is asked about (CLIENT-QUERY). */
  readonly pool4?: readonly number[];
  readonly tuning?: Partial<Pick<HandoffAgentOptions, 'initialRtoMs' | 'minRtoMs' | 'helloRetryMs' | 'helloIntervalMs' | 'keepaliveMs' | 'queryRetries'>>;
}

/**
 * Handoff of one gateway. Contract: start() wires it into the engine (session events, the transport,
 * cache misses, batch ends) and starts its timer; stop() undoes all of it. Everything runs on the
 * gateway's event loop; nothing here runs per forwarded packet (the transport's own hooks aside).
 */
export class Handoff {
  readonly agent: HandoffAgent;
  readonly counters: Counters<HandoffCounterName>;
  readonly tracker: MappingTracker;
  readonly misses: MissQueue;
  /** Flows handed off and evicted (handoff.evictedFlows), asked about when their client speaks first. */
  readonly evictedFlows: EvictedFlows;
  readonly clientMisses: ClientMissQueue;
  readonly transport: HandoffTransport;
  private readonly logger: Logger;
  /** What start() wired into the engine, unwired in reverse by stop(). */
  private readonly wiring: Resources;
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires, on the batch clock; Infinity while none is set. */
  private timerAt = Infinity;
  /** 0 until start() with a timer (tests tick by hand). */
  private housekeepingMs = 0;
  private housekeepingAt = Infinity;
  private readonly fire = () => this.onTimer();
  private lastErrorLog = -Infinity;

  constructor(
    private readonly parts: HandoffParts,
    readonly config: HandoffConfig,
    options: HandoffOptions,
  ) {
    if (config.mode === 'off') throw new RangeError('handoff mode off builds no Handoff');
    const { engine, table, clock } = parts;
    this.logger = options.logger;
    this.wiring = new Resources(options.logger);
    this.counters = new Counters(HANDOFF_COUNTERS);
    const kind = TRANSPORTS[config.transport];
    // The batch clock moves once per batch: the wall time in µs is worked out once per batch too.
    let at = NaN;
    let micros = 0;
    const wallMicros =
      options.wallMicros ??
      (() => {
        if (clock.now !== at) {
          at = clock.now;
          micros = Math.round((performance.timeOrigin + at) * 1000);
        }
        return micros;
      });
    this.agent = new HandoffAgent({
      mode: config.mode,
      clock: clock.read,
      // The transport is built last (it needs the agent and the tracker); nothing is sent before.
      send: (natAddress, host, payload) => this.transport.send(natAddress, host, payload),
      capabilities: kind.capabilities,
      events: {
        onPeerUp: (natAddress, host, state) => this.peerUp(natAddress, host, state),
        onPeerDown: (natAddress, host, state) => this.peerDown(natAddress, host, state),
        onHandedOff: (natAddress, host, acked) => this.tracker.acknowledged(natAddress, host, acked),
        onRelease: (natAddress, host, entries) => this.tracker.released(natAddress, host, entries),
        onAnswer: (token, outcome, entry) =>
          token >= CLIENT_TOKEN_BASE ? this.clientMisses.answered(token, outcome, entry) : this.misses.answered(token, outcome, entry),
      },
      onError: (error) => this.failed(error),
      mtu: config.mtu,
      flushDelayMs: config.flushDelayMs,
      ...(config.key === undefined ? {} : { key: config.key }),
      ...(options.epoch === undefined ? {} : { epoch: options.epoch }),
      ...options.tuning,
    });
    const reporter = {
      mappingCreated: (natAddress: number, host: number, entry: HandoffEntry, ref?: number) => this.transport.mappingCreated(natAddress, host, entry, ref),
      mappingDeleted: (natAddress: number, host: number, entry: HandoffEntry, reason: number) => this.transport.mappingDeleted(natAddress, host, entry, reason),
    };
    this.tracker = new MappingTracker(table, reporter, this.agent, this.counters, wallMicros, {
      ...(kind.mappingsRideOnPackets ? {} : { inBatch: () => engine.inBatch }),
      failed: (error) => this.failed(error),
    });
    this.misses = new MissQueue(this.agent, this.tracker, (b, o, l, vnet) => engine.reinjectIpv4(b, o, l, vnet), config.missQueue, this.counters, clock.read);
    this.evictedFlows = new EvictedFlows(config.mode === 'full' ? config.evictedFlows : 0);
    if (this.evictedFlows.capacity > 0) this.tracker.evictedFlows = this.evictedFlows;
    const output = {
      reinject: (b: Uint8Array, o: number, l: number, vnet: Uint8Array | null) => engine.reinjectIpv6(b, o, l, vnet),
      resetTcp: (b: Uint8Array, o: number, l: number) => engine.resetTcp(b, o, l),
    };
    this.clientMisses = new ClientMissQueue(this.agent, this.tracker, this.evictedFlows, output, config.missQueue, this.counters, options.pool4);
    this.transport = kind.create(this.transportContext(), config);
  }

  /** What the transport gets: the engine, the agent, the tracker, and the agent's inbound behind a guard. */
  private transportContext(): TransportContext {
    const agent = this.agent;
    return {
      engine: this.parts.engine,
      clock: this.parts.clock.read,
      logger: this.logger,
      agent,
      // Runs inside the packet path: a bug here costs a counter and a rate-limited warning, never a thrown packet.
      inbound: {
        receive: (natAddress, host, hostPort, payload, authenticated) => {
          try {
            agent.receive(natAddress, host, hostPort, payload, authenticated);
          } catch (error) {
            this.failed(error);
          }
        },
        portUnreachable: (natAddress, host) => {
          try {
            agent.portUnreachable(natAddress, host);
          } catch (error) {
            this.failed(error);
          }
        },
      },
      mappings: this.tracker,
      maxDatagram: this.config.mtu - Size.IPV4_UDP_OVERHEAD,
      key: this.config.key,
      failed: (error) => this.failed(error),
    };
  }

  /**
   * `housekeepingMs`: how often the miss queue and the transport tick; 0 starts no timer (tests tick
   * by hand: `engine.run(() => handoff.tick())`).
   */
  start(housekeepingMs: number = IMPL.HOUSEKEEPING_MS): void {
    // Everything wired below runs inside the packet path: a bug there costs a counter and a rate-limited
    // warning (handoff.eventErrors), never a thrown packet. try/catch costs nothing in V8 when nothing throws.
    this.followSessions();
    this.startTransport();
    if (this.config.mode === 'full') this.catchMisses();
    if (housekeepingMs > 0) this.startTimer(housekeepingMs);
    this.logger.info(
      {
        mode: this.config.mode,
        transport: this.config.transport,
        epoch: this.agent.epoch.toString(16).padStart(16, '0'),
        mtu: this.config.mtu,
        authenticated: this.config.key !== undefined,
      },
      'handoff started',
    );
  }

  /**
   * Session creations and deletions go to the tracker, which reports mappings; the end of a BIB entry
   * frees its records' slot. The engine's fan-out catches what the tracker throws and hands it to failed().
   */
  private followSessions(): void {
    const tracker = this.tracker;
    this.wiring.add(
      'session events',
      this.parts.engine.events.subscribe({
        sessionCreated: (table, h) => tracker.sessionCreated(table, h),
        sessionDeleted: (table, h, reason) => tracker.sessionDeleted(table, h, reason),
        bibDeleted: (table, b) => tracker.bibDeleted(table, b),
        failed: (error) => this.failed(error),
      }),
    );
  }

  /** The transport, and at the end of every batch what the tracker, the transport and the agent hold back leaves. */
  private startTransport(): void {
    const { tracker, transport, agent } = this;
    transport.start();
    this.wiring.add('transport', () => transport.stop());
    this.wiring.add(
      'batch end',
      this.parts.engine.onBatchEnd((drained) => {
        try {
          tracker.batchEnd();
          transport.batchEnd();
          agent.tick(drained);
        } catch (error) {
          this.failed(error);
        }
        if (this.housekeepingMs > 0) this.schedule();
      }),
    );
  }

  /** Mode full: IPv4 packets without a session (QUERY) and client packets of evicted flows (CLIENT-QUERY) are held and asked about. */
  private catchMisses(): void {
    const engine = this.parts.engine;
    const misses = this.misses;
    engine.onMiss((v, verdict, vnet) => {
      try {
        return misses.miss(v, verdict, vnet);
      } catch (error) {
        this.failed(error);
        return false;
      }
    });
    this.wiring.add('cache misses', () => engine.onMiss(null));
    engine.onClientMiss(new ClientMissHook(this.clientMisses, (error) => this.failed(error)));
    this.wiring.add('client misses', () => engine.onClientMiss(null));
  }

  /** The idle fallback timer (file comment): the agent's next deadline, or housekeeping every `housekeepingMs`. */
  private startTimer(housekeepingMs: number): void {
    this.housekeepingMs = housekeepingMs;
    this.housekeepingAt = this.parts.clock.now + housekeepingMs;
    this.schedule();
    this.wiring.add('fallback timer', () => {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      this.housekeepingMs = 0;
      this.housekeepingAt = Infinity;
    });
  }

  /**
   * Sets the timer to the agent's next deadline or the next housekeeping, unless it fires by then already
   * or at most IMPL.TIMER_SLACK_MS after it (a deadline that moves a little earlier is not worth a
   * clearTimeout and a setTimeout). O(1), run at every batch end.
   */
  private schedule(): void {
    const due = Math.min(this.agent.nextDeadline(), this.housekeepingDue());
    if (due >= this.timerAt - IMPL.TIMER_SLACK_MS) return;
    this.arm(due, this.parts.clock.now);
  }

  /** The next housekeeping, or Infinity while it has nothing to do: no packets wait for a host, and the transport has no housework. */
  private housekeepingDue(): number {
    return this.misses.awaitingHosts || needsHousekeeping(this.transport) ? this.housekeepingAt : Infinity;
  }

  private arm(due: number, now: number): void {
    clearTimeout(this.timer);
    this.timerAt = due;
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(due - now)));
    this.timer.unref();
  }

  /**
   * A batch of its own, so what it sends leaves together; its batch-end hook sets the timer again. When
   * the batches since the timer was set did the work it was set for (nothing is due yet), it is set
   * again for the next deadline without a batch.
   */
  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.parts.clock.tick();
    const due = Math.min(this.agent.nextDeadline(), this.housekeepingDue());
    if (due > now + IMPL.TIMER_SLACK_MS) {
      if (due !== Infinity) this.arm(due, now);
      return;
    }
    try {
      this.parts.engine.run(() => {
        const now = this.parts.clock.now;
        if (now < this.housekeepingAt) return;
        this.housekeepingAt = now + this.housekeepingMs;
        this.misses.tick();
        this.transport.tick?.();
      });
    } catch (error) {
      this.failed(error);
    }
    if (this.housekeepingMs > 0) this.schedule();
  }

  /** The agent's timers and the miss queue's waits; run inside engine.run(). */
  tick(): void {
    this.agent.tick();
    this.misses.tick();
    this.transport.tick?.();
  }

  stop(): void {
    this.wiring.stopSync();
    this.misses.clear();
    this.clientMisses.clear();
  }

  /** Every peer for `hosts` (allocates; for the control socket). */
  hosts(): HostRow[] {
    const transport = this.transport;
    const rows = hostRows(this.agent.peers(), this.parts.clock.tick(), (nat, host) => transport.hostTransport(nat, host));
    return transport.hostsWithoutPeer === undefined ? rows : [...rows, ...transport.hostsWithoutPeer()];
  }

  /** The transport's counters in group handoff, the glue's, the agent's, then the transport's own groups, with explanations. */
  counterLines(): CounterLine[] {
    const fromTransport = this.transport.counterLines();
    const lines = fromTransport.filter((line) => line.group === 'handoff');
    for (const name of Object.keys(HANDOFF_COUNTERS) as HandoffCounterName[]) {
      lines.push({ group: 'handoff', name, value: this.counters.get(name), explanation: HANDOFF_COUNTERS[name] });
    }
    lines.push({
      group: 'handoff',
      name: 'mappings',
      value: this.tracker.mappings.count,
      explanation: 'gauge: mappings (BIB entry and host) reported and live',
    });
    lines.push({ group: 'handoff', name: 'missesHeld', value: this.misses.packets, explanation: 'gauge: packets held while their QUERY is out' });
    lines.push({
      group: 'handoff',
      name: 'clientMissesHeld',
      value: this.clientMisses.packets,
      explanation: 'gauge: client packets held while their CLIENT-QUERY is out',
    });
    lines.push({
      group: 'handoff',
      name: 'evictedFlows',
      value: this.evictedFlows.size,
      explanation: 'gauge: evicted flows remembered (at most handoff.evictedFlows)',
    });
    lines.push({
      group: 'handoff',
      name: 'evictedFlowsBytes',
      value: this.evictedFlows.byteLength,
      explanation: 'gauge: bytes of the memory of evicted flows (12 per flow of its capacity)',
    });
    for (const counter of this.agent.counters.snapshot({ all: true })) {
      lines.push({ group: 'agent', ...counter });
    }
    lines.push({
      group: 'agent',
      name: 'queuedEntries',
      value: this.agent.queuedEntries,
      explanation: 'gauge: entries waiting to be sent reliably, toward every peer',
    });
    for (const line of fromTransport) if (line.group !== 'handoff') lines.push(line);
    return lines;
  }

  /** The figures of the periodic counter summary in the log. */
  summary(): Record<string, number> {
    const sent = this.transport.counterLines().find((line) => line.group === 'handoff' && line.name === 'datagramsSent');
    return {
      handoffMappings: this.tracker.mappings.count,
      handoffPeers: this.agent.peers().length,
      handoffMappingsHandedOff: this.counters.get('mappingsHandedOff'),
      handoffMissesRestored: this.counters.get('missesRestored'),
      handoffDatagramsSent: sent?.value ?? 0,
    };
  }

  private peerUp(natAddress: number, host: number, state: PeerState): void {
    this.transport.peerUp(natAddress, host);
    this.logger.info({ nat: uint32ToIpv4Text(natAddress), host: uint32ToIpv4Text(host), state: PEER_STATE_NAMES[state] }, 'handoff receiver up');
    if (this.config.mode === 'full') {
      this.misses.peerUp(natAddress, host, state);
      this.clientMisses.peerUp(natAddress, state);
    }
  }

  private peerDown(natAddress: number, host: number, state: PeerState): void {
    this.logger.info(
      { nat: uint32ToIpv4Text(natAddress), host: uint32ToIpv4Text(host), state: PEER_STATE_NAMES[state] },
      'handoff receiver down: authority back to the gateway',
    );
    this.tracker.peerDown(natAddress, host);
  }

  private failed(error: unknown): void {
    this.counters.add('eventErrors');
    const now = this.parts.clock.now;
    if (now - this.lastErrorLog < IMPL.ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLog = now;
    this.logger.warn({ err: error }, 'a handoff callback failed (counted as handoff.eventErrors; logged at most once a minute)');
  }
}

/** The handoff a configuration asks for, or null in mode off. */
export function createHandoff(parts: HandoffParts, config: HandoffConfig, options: HandoffOptions): Handoff | null {
  return config.mode === 'off' ? null : new Handoff(parts, config, options);
}
