import { afterEach, describe, expect, it } from 'vitest';
import { MessageType, Protocol } from '@nat64/handoff-codec';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { socketPlan } from '../src/transport.js';
import { loopback, startTestReceiver, type TestReceiver } from './support/receiver.js';

describe('transport', () => {
  const receivers: TestReceiver[] = [];
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.cleanup();
  });

  it('makes "::" dual-stack alone, and IPv6-only beside an IPv4 address or where the system binds IPv6 only', () => {
    expect(socketPlan(['::'], false)).toEqual([{ address: '::', family: 6, dualStack: true }]);
    expect(socketPlan(['0:0::0'], false)).toEqual([{ address: '0:0::0', family: 6, dualStack: true }]);
    expect(socketPlan(['0.0.0.0', '::'], false)).toEqual([
      { address: '0.0.0.0', family: 4, dualStack: false },
      { address: '::', family: 6, dualStack: false },
    ]);
    expect(socketPlan(['::1', '2001:db8::1'], false).map((socket) => socket.dualStack)).toEqual([false, false]);
    expect(socketPlan(['::'], true)).toEqual([{ address: '::', family: 6, dualStack: false }]);
  });

  it('serves an IPv4 gateway on "::" alone: allowed, answered and logged as its IPv4 address', async () => {
    const receiver = await startTestReceiver({ listen: ['::'], allow: ['127.0.0.0/8'] });
    receivers.push(receiver);
    expect(receiver.daemon.transport!.bound).toEqual([`[::]:${receiver.port}`]);
    expect(receiver.daemon.transport!.ipv4Through).toBe(`[::]:${receiver.port}`);
    const gateway = await receiver.gateway(loopback(70));
    await gateway.hello(2000);
    await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(70), natPort: 3719, who: 7, clientPort: 50_007 })]);
    expect(receiver.lines()).toEqual(['Initialized 127.0.0.70', 'Created 127.0.0.70:3719 [2001:db8::7]:50007']);
    const answer = await gateway.query(Protocol.TCP, 3719);
    expect(answer.entry?.clientPort).toBe(50_007);
    expect(receiver.daemon.counters.get('notAllowed')).toBe(0);
  });
});
