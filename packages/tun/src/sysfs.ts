// Looks up what the current network namespace already has under an interface name, so that an
// EINVAL from TUNSETIFF can say why ("lo exists and is not a TUN device"). Only read after a
// failure, never on the packet path.
import { existsSync, readFileSync } from 'node:fs';
import { SPEC } from './constants.js';
import type { ExistingInterface } from './errors.js';

export function probeInterface(name: string, sysClassNet = '/sys/class/net'): ExistingInterface {
  // A pattern or a name with a path separator cannot name an existing interface here.
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('%')) {
    return { kind: 'absent', multiQueue: false };
  }
  const dir = `${sysClassNet}/${name}`;
  if (!existsSync(dir)) return { kind: 'absent', multiQueue: false };
  let flags: number;
  try {
    // TUN and TAP devices, and only they, have tun_flags, e.g. "0x1101".
    flags = Number.parseInt(readFileSync(`${dir}/tun_flags`, 'utf8').trim(), 16);
  } catch {
    return { kind: 'other', multiQueue: false };
  }
  if (!Number.isInteger(flags)) return { kind: 'other', multiQueue: false };
  const multiQueue = (flags & SPEC.IFF_MULTI_QUEUE) !== 0;
  if (flags & SPEC.IFF_TAP) return { kind: 'tap', multiQueue };
  if (flags & SPEC.IFF_TUN) return { kind: 'tun', multiQueue };
  return { kind: 'other', multiQueue };
}
