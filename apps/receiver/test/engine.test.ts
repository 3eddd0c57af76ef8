import { afterEach, describe, expect, it } from 'vitest';
import { MessageType, Protocol, type HandoffEntry } from '@nat64/handoff-codec';
import { manualMicroClock } from '@nat64/service';
import { waitFor } from '@nat64/netlab';
import { loopback, startTestReceiver, type TestReceiver } from './support/receiver.js';

function entry(natPort: number, who: number): HandoffEntry {
  const clientAddress = new Uint8Array(16);
  clientAddress.set([0x20, 0x01, 0x0d, 0xb8]);
  clientAddress[15] = who;
  return {
    protocol: Protocol.TCP,
    reason: 0,
    natAddress: 0,
    natPort,
    clientAddress,
    clientPort: 1000 + who,
    serverAddress: 0xc633640a,
    serverPort: 80,
    time: 1,
  };
}

describe('receiver RELEASE over UDP', () => {
  const receivers: TestReceiver[] = [];
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.cleanup();
  });

  it('reaches the simulated gateway, which acknowledges it', async () => {
    const clock = manualMicroClock(Date.now() * 1000);
    const receiver = await startTestReceiver({ idleTimeout: '10m' }, clock);
    receivers.push(receiver);
    const gateway = await receiver.gateway(loopback(70));
    await gateway.hello();
    await gateway.send(MessageType.CREATED, [{ ...entry(10, 1), natAddress: loopback(70) }]);
    clock.advance(11 * 60_000_000);
    receiver.daemon.receiver.tick();
    await waitFor('the RELEASE', () => gateway.released.length === 1);
    expect(gateway.released[0]).toMatchObject({ natPort: 10, clientPort: 1001 });
    await waitFor('its acknowledgement', () => receiver.daemon.counters.get('releasesAcknowledged') === 1);
    expect(receiver.lines().at(-1)).toBe('Deleted 127.0.0.70:10 [2001:db8::1]:1001');
  });
});
