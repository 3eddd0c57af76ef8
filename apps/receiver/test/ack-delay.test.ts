import { afterEach, describe, expect, it } from 'vitest';
import { MessageType } from '@nat64/handoff-codec';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { loopback, startTestReceiver, type TestReceiver } from './support/receiver.js';

/** Messages sent, each one committed before the next is sent: fewer than ACK_AT_ONCE_MESSAGES (16). */
const MESSAGES = 12;

describe('receiver ACK delay over UDP', () => {
  const receivers: TestReceiver[] = [];
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.cleanup();
  });

  /**
   * Sends MESSAGES CREATED datagrams, one entry each, each only once the receiver has logged the one
   * before (so every one is a commit of its own); resolves when the gateway has every ACK it waits for.
   */
  async function sendOneCommitEach(ackDelay: string, nat: number): Promise<{ acksSent: number }> {
    const receiver = await startTestReceiver({ durability: 'normal', ackDelay });
    receivers.push(receiver);
    const gateway = await receiver.gateway(nat);
    await gateway.hello();
    const acknowledged: Promise<number[]>[] = [];
    for (let i = 1; i <= MESSAGES; i++) {
      acknowledged.push(gateway.send(MessageType.CREATED, [entry({ natAddress: nat, natPort: 1000 + i, who: i })]));
      while (receiver.daemon.counters.get('created') < i) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(acknowledged);
    expect(receiver.lines().filter((line) => line.startsWith('Created'))).toHaveLength(MESSAGES);
    return { acksSent: receiver.daemon.counters.get('acksSent') };
  }

  it('acknowledges commits that follow each other within the delay with fewer ACKs than messages, up to the last one', async () => {
    const { acksSent } = await sendOneCommitEach('100ms', loopback(60));
    expect(acksSent).toBeGreaterThan(0);
    expect(acksSent).toBeLessThan(MESSAGES);
  });

  it('with ackDelay 0 sends an ACK per commit', async () => {
    const { acksSent } = await sendOneCommitEach('0', loopback(61));
    expect(acksSent).toBe(MESSAGES);
  });
});
