// ack-receiver, the benchmarks' receiver that only acknowledges, through its real interface: the built
// script as a process on loopback, a simulated gateway (handoff-sim) speaking handoff v1 to it, and its
// control socket.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageType, createEntry, type HandoffEntry } from '@nat64/handoff-codec';
import { GatewayClient } from '@nat64/handoff-sim';
import { callControl } from '@nat64/service';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, '../dist/ack-receiver.js');
const unbuilt = existsSync(SCRIPT) ? undefined : `${SCRIPT} is not built (pnpm build)`;
if (unbuilt) console.log(`ack-receiver tests skipped: ${unbuilt}`);

const NAT = 0x7f000009;

function entries(count: number): HandoffEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const entry = createEntry();
    entry.protocol = 17;
    entry.natAddress = NAT;
    entry.natPort = 1024 + i;
    entry.clientAddress.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    entry.clientPort = 40_000 + i;
    entry.serverAddress = 0xc0000201;
    entry.serverPort = 53;
    entry.time = 1_700_000_000_000_000 + i;
    return entry;
  });
}

describe.skipIf(unbuilt)('ack-receiver', () => {
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  let gateway: GatewayClient | undefined;

  afterEach(async () => {
    await gateway?.close();
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill();
      await exited;
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function start(ackDelayMs: number): Promise<{ port: number; control: string }> {
    dir = mkdtempSync(join(tmpdir(), 'n64-ack-receiver-'));
    const control = join(dir, 'control.sock');
    child = spawn('node', [SCRIPT, '--listen', '127.0.0.1', '--port', '0', '--control', control, '--ack-delay-ms', String(ackDelayMs)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let stderr = '';
      child!.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
        if (match) resolve(Number(match[1]));
      });
      child!.once('exit', (code) => reject(new Error(`ack-receiver exited with ${code}: ${stderr}`)));
    });
    return { port, control };
  }

  it('answers HELLO as an authoritative receiver and acknowledges every CREATED, counting its entries', async () => {
    const { port, control } = await start(4);
    gateway = await GatewayClient.open({ receiverAddress: '127.0.0.1', receiverPort: port, natAddress: NAT, localPort: 0, initialRtoMs: 200 });
    expect(await gateway.hello()).toMatchObject({ authoritative: true, window: 1024 });
    const latencies = await gateway.send(MessageType.CREATED, entries(100));
    expect(latencies.length).toBeGreaterThan(1);
    await gateway.send(MessageType.DELETED, entries(3));
    const stats = (await callControl(control, 'stats')) as { counters: { name: string; value: number }[] };
    expect(stats.counters).toContainEqual({ name: 'created', value: 100 });
    expect(gateway.retransmissions).toBe(0);
  });

  it('holds an ACK for its delay while fewer than 16 messages wait for it', async () => {
    const { port } = await start(200);
    gateway = await GatewayClient.open({ receiverAddress: '127.0.0.1', receiverPort: port, natAddress: NAT, localPort: 0, initialRtoMs: 2000 });
    await gateway.hello();
    const [latency] = await gateway.send(MessageType.CREATED, entries(1));
    expect(latency).toBeGreaterThanOrEqual(190);
  });

  it('sends a held ACK early when its gateway sends again after half the delay, as nat64-receiver does', async () => {
    const { port } = await start(400);
    gateway = await GatewayClient.open({ receiverAddress: '127.0.0.1', receiverPort: port, natAddress: NAT, localPort: 0, initialRtoMs: 4000 });
    await gateway.hello();
    const first = gateway.send(MessageType.CREATED, entries(1));
    await new Promise((resolve) => setTimeout(resolve, 250));
    const second = gateway.send(MessageType.CREATED, entries(1));
    const [latency] = await first;
    // Released by the second datagram (held 250 ms, more than half of 400), not by the timer at 400 ms.
    expect(latency).toBeGreaterThanOrEqual(240);
    expect(latency).toBeLessThan(390);
    await second;
  });
});
