// Scripted gateway behaviour. `seed` replays the example of the receiver's documentation: gateway
// 192.0.2.7 initializes and creates three entries; then gateway 192.0.2.9 creates one and later
// hands NAT port 47102 to another client, which the receiver logs as Deleted then Created.
import { MessageType, Protocol, type HandoffEntry } from '@nat64/handoff-codec';
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
  gateway: 0 | 1;
  natPort: number;
  client: number;
  clientPort: number;
}

/** What each step creates, in order; the second 47102 entry takes the port over from the first. */
const SEED_STEPS: SeedEntry[][] = [
  [
    { gateway: 0, natPort: 3719, client: 0x17, clientPort: 53186 },
    { gateway: 0, natPort: 3720, client: 0x23, clientPort: 40112 },
    { gateway: 0, natPort: 3721, client: 0x17, clientPort: 53190 },
  ],
  [{ gateway: 1, natPort: 47102, client: 0x75, clientPort: 33131 }],
  [{ gateway: 1, natPort: 47102, client: 0x55, clientPort: 34643 }],
];

/** The log lines the seed scenario must produce, without their timestamps, for the given gateway addresses. */
export function seedExpectedLines(gateways: readonly [string, string]): string[] {
  const [a, b] = gateways;
  return [
    `Initialized ${a}`,
    `Created ${a}:3719 [2001:db8::17]:53186`,
    `Created ${a}:3720 [2001:db8::23]:40112`,
    `Created ${a}:3721 [2001:db8::17]:53190`,
    `Initialized ${b}`,
    `Created ${b}:47102 [2001:db8::75]:33131`,
    `Deleted ${b}:47102 [2001:db8::75]:33131`,
    `Created ${b}:47102 [2001:db8::55]:34643`,
  ];
}

export interface SeedOptions extends Omit<GatewayClientOptions, 'natAddress'> {
  /** The two gateway NAT addresses; default 192.0.2.7 and 192.0.2.9. */
  gateways?: readonly [number, number];
  /** The server (this receiver's host) the entries talk to. */
  serverAddress: number;
  onStep?(description: string): void;
}

export async function runSeedScenario(options: SeedOptions): Promise<void> {
  const addresses = options.gateways ?? SEED_GATEWAYS;
  const clients: GatewayClient[] = [];
  try {
    for (const [index, steps] of SEED_STEPS.entries()) {
      for (const entry of steps) {
        if (!clients[entry.gateway]) {
          clients[entry.gateway] = await GatewayClient.open({ ...options, natAddress: addresses[entry.gateway] });
          await clients[entry.gateway]!.hello();
          options.onStep?.(`gateway ${entry.gateway + 1} said hello`);
        }
      }
      const gateway = clients[steps[0]!.gateway]!;
      const entries: HandoffEntry[] = steps.map((step) => ({
        protocol: Protocol.TCP,
        reason: 0,
        natAddress: addresses[step.gateway],
        natPort: step.natPort,
        clientAddress: ipv6(step.client),
        clientPort: step.clientPort,
        serverAddress: options.serverAddress,
        serverPort: 443,
        time: Date.now() * 1000,
      }));
      await gateway.send(MessageType.CREATED, entries);
      options.onStep?.(`step ${index + 1}: ${entries.length} created, acknowledged`);
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}
