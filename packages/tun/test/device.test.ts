// The TunDevice suite (device-suite.ts) against FakeTun and against a real Linux TUN device. The real
// device is opened here, moved into a network namespace this file makes (its descriptor keeps
// working there) and addressed as 192.0.2.1/24 and 2001:db8::1/64, so the namespace's kernel is the
// stack that answers; without root or /dev/net/tun that half prints why and skips.
//
//   vitest ── writeBatch: echo requests ──▶ tunsuiteN ──▶ kernel of nat64-tun-test-<pid>-<random>
//          ◀── onBatch: echo replies ──────            ◀──
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe } from 'vitest';
import { FakeTun, openTun, type TunDevice } from '@nat64/tun';
import { echoReply, LINK, STACK_ADDRESS } from './support/echo.js';
import { createNamespace, deleteNamespace, realDeviceUnavailableReason } from './support/netns.js';
import { tunDeviceSemantics, type TunHarness } from './device-suite.js';

/** A FakeTun whose far side answers echo requests the way a kernel does. */
class EchoingFakeTun extends FakeTun {
  override writeBatch(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, vnet?: Uint8Array): number {
    const written = super.writeBatch(buffer, offsets, lengths, count, vnet);
    this.#answer();
    return written;
  }

  override writePacket(buffer: Uint8Array, offset: number, length: number): boolean {
    const written = super.writePacket(buffer, offset, length);
    this.#answer();
    return written;
  }

  #answer(): void {
    for (const packet of this.takeWritten()) {
      const reply = echoReply(packet);
      if (reply) this.inject(reply);
    }
  }
}

function fakeHarness(): TunHarness {
  return {
    open: (options = {}) => new EchoingFakeTun({ ...options, mtu: 1400 }),
    remove: (device) => (device as FakeTun).fail(),
    cleanup: () => {},
  };
}

function linuxHarness(namespace: () => string): TunHarness {
  const opened: TunDevice[] = [];
  const ip = (...args: string[]) => execFileSync('ip', ['-n', namespace(), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return {
    open: (options = {}) => {
      const device = openTun({ name: 'tunsuite%d', mtu: 1400, ...options });
      opened.push(device);
      execFileSync('ip', ['link', 'set', device.name, 'netns', namespace()], { stdio: ['ignore', 'ignore', 'pipe'] });
      ip('addr', 'add', `${STACK_ADDRESS[4]}/${LINK[4].prefix}`, 'dev', device.name);
      ip('addr', 'add', `${STACK_ADDRESS[6]}/${LINK[6].prefix}`, 'dev', device.name, 'nodad');
      ip('link', 'set', device.name, 'up');
      return device;
    },
    remove: (device) => ip('link', 'del', device.name),
    cleanup: () => {
      for (const device of opened.splice(0)) device.close();
    },
  };
}

describe('tun device: FakeTun', () => {
  tunDeviceSemantics(fakeHarness);
});

const unavailable = realDeviceUnavailableReason();
if (unavailable) console.log(`tun device suite on a Linux TUN device skipped: ${unavailable}`);

describe.skipIf(unavailable)('tun device: Linux TUN', () => {
  let namespace = '';
  beforeAll(() => {
    namespace = createNamespace();
  });
  afterAll(() => {
    if (namespace) deleteNamespace(namespace);
  });
  tunDeviceSemantics(() => linuxHarness(() => namespace));
});
