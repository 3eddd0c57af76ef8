#!/usr/bin/env node
// handoff-sim: speaks handoff v1 to a receiver like a NAT64 gateway would. Replays the seed
// scenario, or generates load and reports durable entries per second and ACK latency.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ExitCode } from '@nat64/service';
import { ipv4TextToUint32, uint32ToIpv4Text } from '@nat64/wire';
import { HANDOFF_PORT } from '@nat64/handoff-codec';
import { runLoad } from './load.js';
import { runSeedScenario, SEED_GATEWAYS } from './scenarios.js';

function addresses(text: string): number[] {
  return text.split(',').map((item) => {
    const address = ipv4TextToUint32(item.trim());
    if (address < 0) throw new Error(`"${item}" is not an IPv4 address`);
    return address;
  });
}

const program = new Command()
  .name('handoff-sim')
  .description('A NAT64 gateway simulator that speaks handoff protocol v1 to a receiver.')
  .requiredOption('--receiver <address>', 'the receiver to talk to')
  .option('--port <port>', 'its UDP port', Number, HANDOFF_PORT)
  .addOption(new Option('--scenario <name>', 'replay a scripted scenario').choices(['seed']))
  .option('--load', 'generate load and report entries per second and ACK latency')
  .option(
    '--gateways <addresses>',
    'NAT addresses to send from, comma-separated (each must be an address of this host); default 192.0.2.7,192.0.2.9 for seed, 127.0.0.7 for load',
  )
  .option('--local-port <port>', 'UDP port to send from (0 = any)', Number, HANDOFF_PORT)
  .option('--server <address>', 'server address the entries name (this receiver host)', '198.51.100.10')
  .option('--key-file <file>', 'hex key to authenticate with')
  .option('--count <entries>', 'load: entries in all', Number, 100_000)
  .option('--rate <entries-per-second>', 'load: 0 for as fast as acknowledgements allow', Number, 0)
  .option('--clients <count>', 'load: distinct IPv6 clients', Number, 1000)
  .option('--reuse <share>', 'load: share of entries that take over a NAT port from another client (0-1)', Number, 0.05)
  .option('--json', 'print the load report as JSON')
  .action(async (options) => {
    const base = {
      receiverAddress: options.receiver as string,
      receiverPort: options.port as number,
      localPort: options.localPort as number,
      ...(options.keyFile ? { key: Buffer.from(readFileSync(options.keyFile as string, 'utf8').trim(), 'hex') } : {}),
    };
    const serverAddress = addresses(options.server as string)[0]!;
    if (options.scenario === 'seed') {
      const gateways = options.gateways ? addresses(options.gateways as string) : [...SEED_GATEWAYS];
      if (gateways.length !== 2) throw new Error('the seed scenario needs two gateway addresses');
      await runSeedScenario({ ...base, serverAddress, gateways: [gateways[0]!, gateways[1]!], onStep: (step) => console.error(`handoff-sim: ${step}`) });
      console.error(`handoff-sim: seed scenario done (gateways ${gateways.map(uint32ToIpv4Text).join(', ')})`);
      return;
    }
    if (!options.load) throw new Error('choose --scenario seed or --load');
    const report = await runLoad({
      ...base,
      serverAddress,
      gateways: addresses((options.gateways as string | undefined) ?? '127.0.0.7'),
      count: options.count as number,
      rate: options.rate as number,
      clients: options.clients as number,
      reuse: options.reuse as number,
    });
    if (options.json) {
      console.log(JSON.stringify(report));
      return;
    }
    console.log(`entries          ${report.entries}`);
    console.log(`messages         ${report.messages}`);
    console.log(`seconds          ${report.seconds.toFixed(2)}`);
    console.log(`entries/s        ${Math.round(report.entriesPerSecond)}`);
    console.log(`messages/s       ${Math.round(report.messagesPerSecond)}`);
    console.log(
      `ACK latency ms   p50 ${report.ackLatencyMs.p50.toFixed(2)}  p90 ${report.ackLatencyMs.p90.toFixed(2)}  p99 ${report.ackLatencyMs.p99.toFixed(2)}  max ${report.ackLatencyMs.max.toFixed(2)}`,
    );
    console.log(`retransmissions  ${report.retransmissions}`);
  });

try {
  await program.parseAsync();
} catch (error) {
  console.error(`handoff-sim: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(ExitCode.unavailable);
}
