// The messages transport (handoff v1 section 4): the agent's datagrams travel as UDP from the NAT
// address, port 62863, to the host's port 62863, through a LocalSocket on the gateway's own packet
// path; mapping changes are entries of the agent's reliable stream (CREATED, DELETED). Its socket's
// counters are shown under `handoff.*`, as they always were.

import { HANDOFF_PORT, type HandoffEntry } from '@nat64/handoff-codec';
import { LocalSocket, type LocalSocketCounterName } from '@nat64/gateway-engine';
import type { CounterLine, HandoffTransport, HostTransport, TransportContext } from '../transport.js';

/** The socket's counters as `stats --explain` words them. */
const SOCKET_COUNTERS: Record<LocalSocketCounterName, string> = {
  datagramsSent: 'handoff datagrams built and injected toward a host (UDP from the NAT address, port 62863)',
  sendRefused: 'handoff datagrams the engine refused to inject (too large for the output slot)',
  datagramsReceived: 'UDP datagrams to a pool4 address on port 62863 handed to the agent',
  malformed: 'dropped: a datagram to port 62863 whose UDP length or checksum is wrong',
  fragmented: 'dropped: a fragment of a datagram to port 62863 (receivers send whole datagrams)',
  portUnreachable: 'ICMP port unreachable about our datagrams (no receiver on the host), handed to the agent',
  icmpErrorsOther: 'other ICMP errors about our datagrams (host unreachable, fragmentation needed, ...), counted only',
};

const HOST_TRANSPORT: HostTransport = { transport: 'handoff', vni: null };

/** Handoff messages on UDP 62863. Contract: transport.ts. */
export class MessagesTransport implements HandoffTransport {
  readonly socket: LocalSocket;
  private detach: (() => void) | null = null;

  constructor(private readonly context: TransportContext) {
    this.socket = new LocalSocket(context.engine, HANDOFF_PORT, context.maxDatagram, SOCKET_COUNTERS);
  }

  send(natAddress: number, host: number, payload: Uint8Array): void {
    this.socket.send(natAddress, host, payload);
  }

  mappingCreated(natAddress: number, host: number, entry: HandoffEntry, ref?: number): void {
    this.context.agent.mappingCreated(natAddress, host, entry, ref);
  }

  mappingDeleted(natAddress: number, host: number, entry: HandoffEntry, reason: number): void {
    this.context.agent.mappingDeleted(natAddress, host, entry, reason);
  }

  peerUp(natAddress: number, host: number): void {
    this.context.mappings.announce(natAddress, host, this.context.agent);
  }

  start(): void {
    if (this.detach !== null) return;
    const inbound = this.context.inbound;
    this.detach = this.socket.attach({
      receive: (natAddress, host, hostPort, payload) => inbound.receive(natAddress, host, hostPort, payload),
      portUnreachable: (natAddress, host) => inbound.portUnreachable(natAddress, host),
    });
  }

  stop(): void {
    this.detach?.();
    this.detach = null;
  }

  batchEnd(): void {}

  hostTransport(): HostTransport {
    return HOST_TRANSPORT;
  }

  counterLines(): CounterLine[] {
    return this.socket.counters.snapshot({ all: true }).map((counter) => ({ group: 'handoff', ...counter }));
  }
}
