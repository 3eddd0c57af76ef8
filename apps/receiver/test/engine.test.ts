import { afterEach, describe, expect, it } from 'vitest';
import { MessageType } from '@nat64/handoff-codec';
import { manualMicroClock } from '@nat64/service';
import { waitFor } from '@nat64/netlab';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { loopback, startTestReceiver, type TestReceiver } from './support/receiver.js';

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
    await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(70), natPort: 10, clientPort: 1001 })]);
    clock.advance(11 * 60_000_000);
    receiver.daemon.receiver.tick();
    await waitFor('the RELEASE', () => gateway.released.length === 1);
    expect(gateway.released[0]).toMatchObject({ natPort: 10, clientPort: 1001 });
    await waitFor('its acknowledgement', () => receiver.daemon.counters.get('releasesAcknowledged') === 1);
    expect(receiver.lines().at(-1)).toBe('Deleted 127.0.0.70:10 [2001:db8::1]:1001');
  });
});
