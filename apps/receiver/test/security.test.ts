import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { HANDOFF_VERSION, MessageType } from '@nat64/handoff-codec';
import { waitFor } from '@nat64/netlab';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { loopback, startTestReceiver, type TestReceiver } from './support/receiver.js';

describe('receiver security', () => {
  const receivers: TestReceiver[] = [];
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.cleanup();
  });
  async function start(flags: Record<string, unknown> = {}): Promise<TestReceiver> {
    const receiver = await startTestReceiver(flags);
    receivers.push(receiver);
    return receiver;
  }

  it('drops a forged CREATED from a gateway that never completed the HELLO exchange, leaving no log line', async () => {
    const receiver = await start();
    const attacker = await receiver.gateway(loopback(40));
    for (const cookie of [0n, 1n, 0x0123456789abcdefn]) {
      attacker.sendRaw(
        attacker.encode({
          type: MessageType.CREATED,
          version: HANDOFF_VERSION,
          flags: 0,
          epoch: 42n,
          cookie,
          sequence: 1,
          entries: [entry({ natAddress: loopback(40), natPort: 1 })],
        }),
      );
    }
    await waitFor('three drops', () => receiver.daemon.counters.get('badCookie') === 3);
    expect(receiver.rawLines()).toEqual([]);
    expect(receiver.daemon.counters.get('acksSent')).toBe(0);
  });

  it('does not let one gateway use the cookie of another address', async () => {
    const receiver = await start();
    const honest = await receiver.gateway(loopback(41));
    await honest.hello();
    const spoofer = await receiver.gateway(loopback(42));
    spoofer.sendRaw(
      spoofer.encode({
        type: MessageType.CREATED,
        version: HANDOFF_VERSION,
        flags: 0,
        epoch: honest.epoch,
        cookie: honest.cookie,
        sequence: 1,
        entries: [entry({ natAddress: loopback(42), natPort: 1 })],
      }),
    );
    await waitFor('the drop', () => receiver.daemon.counters.get('badCookie') === 1);
    expect(receiver.lines()).toEqual(['Initialized 127.0.0.41']);
  });

  it('drops entries that name a NAT address other than the sender, alone, and still acknowledges', async () => {
    const receiver = await start();
    const gateway = await receiver.gateway(loopback(43));
    await gateway.hello();
    await gateway.send(MessageType.CREATED, [
      entry({ natAddress: loopback(44), natPort: 1 }),
      entry({ natAddress: loopback(43), natPort: 2, who: 0x66, clientPort: 4444 }),
      entry({ natAddress: loopback(43), natPort: 3, protocol: 99 }),
    ]);
    expect(receiver.lines()).toEqual(['Initialized 127.0.0.43', 'Created 127.0.0.43:2 [2001:db8::66]:4444']);
    expect(receiver.daemon.counters.get('entriesRejected')).toBe(2);
  });

  it('refuses a HELLO whose NAT address is not its source, and an undersized HELLO', async () => {
    const receiver = await start();
    const gateway = await receiver.gateway(loopback(45));
    gateway.sendRaw(
      gateway.encode({
        type: MessageType.HELLO,
        version: HANDOFF_VERSION,
        flags: 0,
        epoch: 1n,
        cookie: 0n,
        sequence: 1,
        natAddress: loopback(46),
        capabilities: 1,
      }),
    );
    const hello = gateway.encode({
      type: MessageType.HELLO,
      version: HANDOFF_VERSION,
      flags: 0,
      epoch: 1n,
      cookie: 0n,
      sequence: 1,
      natAddress: loopback(45),
      capabilities: 1,
    });
    const short = Buffer.from(hello.subarray(0, 32));
    short.writeUInt16BE(32, 2);
    gateway.sendRaw(short);
    await waitFor('both drops', () => receiver.daemon.counters.get('natAddressMismatch') === 1 && receiver.daemon.counters.get('undersized') === 1);
    expect(receiver.daemon.counters.get('helloAcksSent')).toBe(0);
  });

  it('counts and survives garbage, truncation, oversized datagrams and unknown versions and types', async () => {
    const receiver = await start();
    const gateway = await receiver.gateway(loopback(47));
    await gateway.hello();
    const valid = gateway.encode({
      type: MessageType.CREATED,
      version: HANDOFF_VERSION,
      flags: 0,
      epoch: gateway.epoch,
      cookie: gateway.cookie,
      sequence: 1,
      entries: [entry({ natAddress: loopback(47), natPort: 9 })],
    });
    const garbage = Array.from({ length: 200 }, (_, i) => randomBytes(1 + (i % 120)));
    const truncated = Array.from({ length: valid.length - 1 }, (_, i) => valid.subarray(0, i + 1));
    const oversized = Buffer.concat([valid, Buffer.alloc(9000)]);
    const unknownVersion = Buffer.from(valid);
    unknownVersion[0] = 2;
    const unknownType = Buffer.from(valid);
    unknownType[1] = 77;
    const sent = [...garbage, ...truncated, oversized, unknownVersion, unknownType];
    for (const bytes of sent) gateway.sendRaw(bytes);
    await waitFor('every datagram', () => receiver.daemon.counters.get('datagramsReceived') >= sent.length + 2);
    const counters = receiver.daemon.counters;
    expect(counters.get('unknownVersion')).toBeGreaterThanOrEqual(1);
    expect(counters.get('unknownType')).toBeGreaterThanOrEqual(1);
    expect(counters.get('truncated') + counters.get('lengthMismatch') + counters.get('badCount')).toBeGreaterThanOrEqual(truncated.length);
    expect(counters.get('reliableApplied')).toBe(0);
    // Still serving, with nothing stored from any of it.
    await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(47), natPort: 10, who: 0x66, clientPort: 4444 })]);
    expect(receiver.lines()).toEqual(['Initialized 127.0.0.47', 'Created 127.0.0.47:10 [2001:db8::66]:4444']);
  });

  it('drops datagrams from outside --allow', async () => {
    const receiver = await start({ allow: ['127.0.0.48/32'] });
    const allowed = await receiver.gateway(loopback(48));
    await allowed.hello();
    const other = await receiver.gateway(loopback(49));
    await expect(other.hello(600)).rejects.toThrow(/no HELLO-ACK/);
    expect(receiver.daemon.counters.get('notAllowed')).toBeGreaterThan(0);
  });

  it('requires the configured key and tags its replies with it', async () => {
    const key = randomBytes(32);
    const receiver = await start({ keys: [{ gateways: '127.0.0.0/8', key: key.toString('hex') }] });
    const untagged = await receiver.gateway(loopback(50));
    await expect(untagged.hello(600)).rejects.toThrow(/no HELLO-ACK/);
    const wrongKey = await receiver.gateway(loopback(51), { key: randomBytes(32) });
    await expect(wrongKey.hello(600)).rejects.toThrow(/no HELLO-ACK/);
    expect(receiver.daemon.counters.get('authenticationFailed')).toBeGreaterThanOrEqual(2);
    const keyed = await receiver.gateway(loopback(52), { key });
    await keyed.hello();
    await keyed.send(MessageType.CREATED, [entry({ natAddress: loopback(52), natPort: 11, who: 0x66, clientPort: 4444 })]);
    expect(receiver.lines()).toEqual(['Initialized 127.0.0.52', 'Created 127.0.0.52:11 [2001:db8::66]:4444']);
  });

  it('drops tagged datagrams when no key is configured for the sender', async () => {
    const receiver = await start();
    const tagged = await receiver.gateway(loopback(53), { key: randomBytes(32) });
    await expect(tagged.hello(600)).rejects.toThrow(/no HELLO-ACK/);
    expect(receiver.daemon.counters.get('authenticationFailed')).toBeGreaterThan(0);
  });
});
