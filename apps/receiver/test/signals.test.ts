// The real receiver process and SIGTERM while it starts: systemd may stop a unit at any moment, and
// the daemon must then stop as it always does (closing its files, exit 0), not die of the signal.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAIN } from './support/child.js';

describe('receiver signals', { timeout: 30_000 }, () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stops cleanly on a SIGTERM that arrives while it starts', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nat64-signals-'));
    // --retention 0 logs a warning before the database, the log and the sockets are opened: the
    // signal goes out when that line arrives, while the daemon is still starting.
    const child = spawn(
      process.execPath,
      [MAIN, 'run', '--listen', '127.0.0.1', '--port', '0', '--transport', 'handoff', '--db', join(dir, 'c.db'), '--conn-log', join(dir, 'c.log')].concat([
        '--control',
        join(dir, 'control.sock'),
        '--retention',
        '0',
        '--log-level',
        'info',
      ]),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr === '' && chunk.includes('retention is 0')) child.kill('SIGTERM');
      stderr += chunk.toString();
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(stderr).toContain('receiver started');
    expect(stderr).toContain('shutting down');
  });
});
