// The two secrets of bypass §5: the persistent one in a file (created 0600 on first start, in a 0700
// directory, and kept, so VNIs survive restarts) and the transient one in memory, new at every start
// and on a schedule.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { IMPL } from './constants.js';

/** Reads the persistent secret (32 to 128 hex digits), creating it when the file does not exist. */
export function loadPersistentSecret(file: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the bypass secret ${file}: ${(error as Error).message}`);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const secret = randomBytes(IMPL.SECRET_BYTES);
    try {
      // 'wx': two gateways starting at once must not overwrite each other's secret.
      writeFileSync(file, `${secret.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
      return Uint8Array.from(secret);
    } catch (raced) {
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create the bypass secret ${file}: ${(raced as Error).message}`);
      text = readFileSync(file, 'utf8');
    }
  }
  const hex = text.trim();
  if (!/^([0-9a-fA-F]{2}){16,64}$/.test(hex)) throw new Error(`the bypass secret ${file} must hold 32 to 128 hex digits (16 to 64 bytes)`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** The transient secret, and when it was made (engine clock, ms); each host keeps its previous MAC for the grace period. */
export class TransientSecret {
  current: Uint8Array = Uint8Array.from(randomBytes(IMPL.SECRET_BYTES));
  rotatedAt: number;

  constructor(now: number) {
    this.rotatedAt = now;
  }

  rotate(now: number): void {
    this.current = Uint8Array.from(randomBytes(IMPL.SECRET_BYTES));
    this.rotatedAt = now;
  }
}
