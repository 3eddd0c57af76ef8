import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probeInterface } from '../src/sysfs.js';

// A stand-in for /sys/class/net: tun_flags as the kernel prints them ("0x%x").
const root = mkdtempSync(join(tmpdir(), 'nat64-tun-sysfs-'));
const device = (name: string, tunFlags?: string) => {
  mkdirSync(join(root, name));
  if (tunFlags !== undefined) writeFileSync(join(root, name, 'tun_flags'), `${tunFlags}\n`);
};
device('lo');
device('tun0', '0x1001'); // IFF_TUN | IFF_NO_PI
device('mq0', '0x1101'); // IFF_TUN | IFF_MULTI_QUEUE | IFF_NO_PI
device('tap0', '0x1002'); // IFF_TAP | IFF_NO_PI
device('odd0', 'garbage');

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sysfs', () => {
  it('tells TUN, multi-queue TUN, TAP, other and absent interfaces apart', () => {
    expect(probeInterface('lo', root)).toEqual({ kind: 'other', multiQueue: false });
    expect(probeInterface('tun0', root)).toEqual({ kind: 'tun', multiQueue: false });
    expect(probeInterface('mq0', root)).toEqual({ kind: 'tun', multiQueue: true });
    expect(probeInterface('tap0', root)).toEqual({ kind: 'tap', multiQueue: false });
    expect(probeInterface('odd0', root)).toEqual({ kind: 'other', multiQueue: false });
    expect(probeInterface('nope0', root)).toEqual({ kind: 'absent', multiQueue: false });
  });

  it('treats patterns and path-like names as absent without looking outside the directory', () => {
    expect(probeInterface('tun%d', root)).toEqual({ kind: 'absent', multiQueue: false });
    expect(probeInterface('../tun0', root)).toEqual({ kind: 'absent', multiQueue: false });
    expect(probeInterface('..', root)).toEqual({ kind: 'absent', multiQueue: false });
  });
});
