import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { errnoName, openFailure, receiveFailure, type ExistingInterface } from '../src/errors.js';

const { errno } = constants;
const absent: ExistingInterface = { kind: 'absent', multiQueue: false };
const attempt = { name: 'tun0', multiQueue: false };

describe('errors', () => {
  it('names an errno and describes it', () => {
    expect(errnoName(errno.EPERM)).toEqual(['EPERM', 'operation not permitted']);
    expect(errnoName(99_999)).toEqual(['E99999', 'unknown error']);
  });

  it('says what was tried, what the kernel said and what to check', () => {
    const error = openFailure('open', errno.ENOENT, attempt, absent);
    expect(error.message).toBe(
      'cannot open TUN device "tun0": open /dev/net/tun failed: ENOENT (no such file or directory); ' +
        'is /dev/net/tun present? (modprobe tun; a container needs the device passed in)',
    );
    expect([error.code, error.errno, error.operation, error.name]).toEqual(['ENOENT', errno.ENOENT, 'open', 'TunError']);
  });

  it('points at CAP_NET_ADMIN when creating is not permitted', () => {
    expect(openFailure('TUNSETIFF', errno.EPERM, attempt, absent).message).toBe(
      'cannot open TUN device "tun0": TUNSETIFF (create or attach "tun0") failed: EPERM (operation not permitted); ' +
        'needs CAP_NET_ADMIN (or, for an existing persistent device, to be its owner or group)',
    );
    expect(openFailure('SIOCSIFFLAGS', errno.EPERM, attempt, absent).message).toMatch(/bring the link up\) failed: EPERM .*; needs CAP_NET_ADMIN$/);
  });

  it('tells an EINVAL from TUNSETIFF apart by what already has the name', () => {
    const hint = (existing: ExistingInterface, multiQueue = false) =>
      openFailure('TUNSETIFF', errno.EINVAL, { name: 'x0', multiQueue }, existing).message.split('; ')[1];
    expect(hint({ kind: 'other', multiQueue: false })).toBe('"x0" exists and is not a TUN device');
    expect(hint({ kind: 'tap', multiQueue: false })).toBe('"x0" is a TAP device, not TUN');
    expect(hint({ kind: 'tun', multiQueue: true })).toBe('"x0" exists with IFF_MULTI_QUEUE: open it with multiQueue: true');
    expect(hint({ kind: 'tun', multiQueue: false }, true)).toBe('"x0" exists without IFF_MULTI_QUEUE: open it with multiQueue: false');
    expect(hint(absent)).toBe('is "x0" a valid interface name? (at most 15 bytes, no "/", ":" or whitespace)');
  });

  it('explains a busy single-queue device and a refused MTU', () => {
    expect(openFailure('TUNSETIFF', errno.EBUSY, attempt, { kind: 'tun', multiQueue: false }).message).toContain(
      '; "tun0" is single-queue and already open; it takes one reader (use multiQueue for several)',
    );
    expect(openFailure('SIOCSIFMTU', errno.EINVAL, { ...attempt, mtu: 9000 }, absent).message).toBe(
      'cannot open TUN device "tun0": SIOCSIFMTU (set MTU 9000) failed: EINVAL (invalid argument); ' + 'the device refuses MTU 9000 (TUN accepts 68 to 65535)',
    );
  });

  it('leaves the hint out when it has none', () => {
    expect(openFailure('SIOCGIFINDEX', errno.ENODEV, attempt, absent).message).toBe(
      'cannot open TUN device "tun0": SIOCGIFINDEX (read the interface index) failed: ENODEV (no such device)',
    );
  });

  it('asks whether the interface was deleted when a started device stops receiving', () => {
    const error = receiveFailure('tun3', errno.EBADF);
    expect(error.message).toBe('TUN device "tun3" stopped receiving: EBADF (bad file descriptor); was the interface deleted?');
    expect([error.code, error.operation]).toEqual(['EBADF', 'read']);
    expect(receiveFailure('tun3', errno.EFAULT).message).toBe('TUN device "tun3" stopped receiving: EFAULT (bad address in system call argument)');
  });
});
