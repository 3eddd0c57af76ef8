// Scripted gateway behaviour. `seed` replays the example of the receiver's documentation, the six
// lines
//   2019-03-18 10:06:28.436754 Initialized 192.0.2.7
//   2019-03-18 10:06:28.491727 Created 192.0.2.7:3719 [2001:db8::17]:53186
//   2019-03-18 10:07:07.333900 Created 192.0.2.7:12191 [2001:db8::3]:53716
//   2019-03-18 11:41:06.362189 Created 192.0.2.7:28965 [2001:db8::5]:41660
//   2019-03-18 15:22:02.062254 Deleted 192.0.2.9:47102 [2001:db8::75]:33131
//   2019-03-18 15:22:02.062478 Created 192.0.2.9:47102 [2001:db8::55]:34643
// one event per message, each at its time. They are an excerpt: 192.0.2.9 started and gave port
// 47102 to [2001:db8::75]:33131 before it, which the scenario replays first (its prelude, two lines).
import { DeleteReason, MessageType, Protocol, type HandoffEntry } from '@nat64/handoff-codec';
import { GatewayClient, type GatewayClientOptions } from './gateway-client.js';

export const SEED_GATEWAYS = [0xc0000207, 0xc0000209] as const; // 192.0.2.7, 192.0.2.9

function ipv6(last: number): Uint8Array {
  const bytes = new Uint8Array(16);
  bytes.set([0x20, 0x01, 0x0d, 0xb8]);
  bytes[14] = last >> 8;
  bytes[15] = last & 0xff;
  return bytes;
}

interface SeedEntry {
  natPort: number;
  client: number;
  clientPort: number;
}

/** One line of the seed: when (UTC), which gateway, and what it does. */
interface SeedEvent {
  at: string;
  gateway: 0 | 1;
  kind: 'Initialized' | 'Created' | 'Deleted';
  entry?: SeedEntry;
}

/** What happened before the excerpt, so that its Deleted has something to delete. */
const SEED_PRELUDE: readonly SeedEvent[] = [
  { at: '2019-03-18 09:58:13.201466', gateway: 1, kind: 'Initialized' },
  { at: '2019-03-18 09:58:13.257108', gateway: 1, kind: 'Created', entry: { natPort: 47102, client: 0x75, clientPort: 33131 } },
];

/** The six lines of the seed example. */
const SEED_EXCERPT: readonly SeedEvent[] = [
  { at: '2019-03-18 10:06:28.436754', gateway: 0, kind: 'Initialized' },
  { at: '2019-03-18 10:06:28.491727', gateway: 0, kind: 'Created', entry: { natPort: 3719, client: 0x17, clientPort: 53186 } },
  { at: '2019-03-18 10:07:07.333900', gateway: 0, kind: 'Created', entry: { natPort: 12191, client: 0x3, clientPort: 53716 } },
  { at: '2019-03-18 11:41:06.362189', gateway: 0, kind: 'Created', entry: { natPort: 28965, client: 0x5, clientPort: 41660 } },
  { at: '2019-03-18 15:22:02.062254', gateway: 1, kind: 'Deleted', entry: { natPort: 47102, client: 0x75, clientPort: 33131 } },
  { at: '2019-03-18 15:22:02.062478', gateway: 1, kind: 'Created', entry: { natPort: 47102, client: 0x55, clientPort: 34643 } },
];

/** "2019-03-18 10:06:28.436754" (UTC) in microseconds since the epoch. */
function micros(text: string): number {
  const [date, time] = text.split(' ') as [string, string];
  const [seconds, fraction] = time.split('.') as [string, string];
  return Date.parse(`${date}T${seconds}Z`) * 1000 + Number(fraction);
}

function line(event: SeedEvent, gateways: readonly [string, string], withTime: boolean): string {
  const gateway = gateways[event.gateway];
  const what =
    event.entry === undefined
      ? `${event.kind} ${gateway}`
      : `${event.kind} ${gateway}:${event.entry.natPort} [2001:db8::${event.entry.client.toString(16)}]:${event.entry.clientPort}`;
  return withTime ? `${event.at} ${what}` : what;
}

/**
 * The log lines the seed scenario must produce for the given gateway addresses: the prelude's two,
 * then the six of the example. With `timestamps`, as a receiver whose clock the scenario set
 * (`SeedOptions.setClock`) writes them; otherwise without their timestamps.
 */
export function seedExpectedLines(gateways: readonly [string, string], options: { timestamps?: boolean; excerptOnly?: boolean } = {}): string[] {
  const events = options.excerptOnly === true ? SEED_EXCERPT : [...SEED_PRELUDE, ...SEED_EXCERPT];
  return events.map((event) => line(event, gateways, options.timestamps === true));
}

export interface SeedOptions extends Omit<GatewayClientOptions, 'natAddress'> {
  /** The two gateway NAT addresses; default 192.0.2.7 and 192.0.2.9. */
  gateways?: readonly [number, number];
  /** The server (this receiver's host) the entries talk to. */
  serverAddress: number;
  onStep?(description: string): void;
  /**
   * Called with each event's time (µs) before it is sent, for a receiver whose clock a test
   * controls: its log then shows the seed's timestamps too. Entries carry these times either way.
   */
  setClock?(micros: number): void;
}

export async function runSeedScenario(options: SeedOptions): Promise<void> {
  const addresses = options.gateways ?? SEED_GATEWAYS;
  const clients: GatewayClient[] = [];
  try {
    for (const [index, event] of [...SEED_PRELUDE, ...SEED_EXCERPT].entries()) {
      const at = micros(event.at);
      options.setClock?.(at);
      if (event.kind === 'Initialized') {
        const client = await GatewayClient.open({ ...options, natAddress: addresses[event.gateway] });
        clients[event.gateway] = client;
        await client.hello();
        options.onStep?.(`event ${index + 1}: gateway ${event.gateway + 1} said hello`);
        continue;
      }
      const step = event.entry!;
      const entry: HandoffEntry = {
        protocol: Protocol.TCP,
        reason: event.kind === 'Deleted' ? DeleteReason.TCP_CLOSED : 0,
        natAddress: addresses[event.gateway],
        natPort: step.natPort,
        clientAddress: ipv6(step.client),
        clientPort: step.clientPort,
        serverAddress: options.serverAddress,
        serverPort: 443,
        time: at,
      };
      await clients[event.gateway]!.send(event.kind === 'Deleted' ? MessageType.DELETED : MessageType.CREATED, [entry]);
      options.onStep?.(`event ${index + 1}: ${event.kind.toLowerCase()}, acknowledged`);
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}
