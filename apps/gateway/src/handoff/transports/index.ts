// The transports handoff can reach the hosts with, by the value of `handoff.transport`: one is chosen
// once, when handoff is built (handoff.ts), and nothing else knows which. A new transport is a folder
// beside messages/ and geneve/ implementing transport.ts, and one entry here.

import { Capability } from '@nat64/handoff-codec';
import type { HandoffConfig, TransportName } from '../config.js';
import { GeneveTransport } from './geneve/geneve.js';
import { MessagesTransport } from './messages/messages.js';
import type { HandoffTransport, TransportContext } from './transport.js';

export interface TransportKind {
  /** The capabilities the gateway announces in its HELLOs (handoff v1 section 5.4). */
  readonly capabilities: number;
  create(context: TransportContext, config: HandoffConfig): HandoffTransport;
}

export const TRANSPORTS: Readonly<Record<TransportName, TransportKind>> = {
  /** Handoff messages on UDP 62863. */
  handoff: {
    capabilities: Capability.HANDOFF_V1,
    create: (context) => new MessagesTransport(context),
  },
  /** Geneve tunnels and control packets on UDP 6081 only. */
  geneve: {
    capabilities: GeneveTransport.capabilities(false),
    create: (context, config) => new GeneveTransport(context, { settings: config.geneve, fallback: null }),
  },
  /** Both asked; Geneve toward hosts whose receiver announces it, handoff messages toward the others. */
  auto: {
    capabilities: GeneveTransport.capabilities(true),
    create: (context, config) => new GeneveTransport(context, { settings: config.geneve, fallback: (c) => new MessagesTransport(c) }),
  },
};

export type { CounterLine, HandoffTransport, HostTransport, TransportContext } from './transport.js';
