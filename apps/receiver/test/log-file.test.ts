import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@nat64/netlab';
import { afterEach, describe, expect, it } from 'vitest';
import { initializedLine } from '@nat64/handoff-receiver';
import { openConnectionLog } from '../src/log-file.js';

const seedTime = Date.UTC(2019, 2, 18, 10, 6, 28) * 1000 + 436754;
const line = (offset: number, gateway = 0xc0000207) => initializedLine(seedTime + offset, gateway, 'utc');

describe('log-file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-connlog-'));
    dirs.push(dir);
    return dir;
  }

  it('appends to a file on flush, reopens after rotation and tells what the file ends with', () => {
    const file = join(tempDir(), 'connections.log');
    const log = openConnectionLog({ file }, 'utc');
    expect(log.prepareTail()).toEqual({ lastAt: undefined, lastLines: [], cutBytes: 0 });
    log.append(line(0));
    log.append(line(1));
    expect(readFileSync(file, 'utf8')).toBe('');
    log.flush(seedTime + 1);
    let written: boolean | undefined;
    log.afterWritten((done) => (written = done));
    expect(written).toBe(true);
    renameSync(file, `${file}.1`);
    log.reopen();
    log.append(line(2));
    log.flush();
    log.close();
    expect(readFileSync(`${file}.1`, 'utf8').split('\n')).toHaveLength(3);
    expect(readFileSync(file, 'utf8')).toBe('2019-03-18 10:06:28.436756 Initialized 192.0.2.7\n');
  });

  it('writes encoded lines and single lines in the order they were appended, as the lines of their commit', () => {
    const file = join(tempDir(), 'connections.log');
    const log = openConnectionLog({ file }, 'utc');
    log.append(line(0));
    log.appendEncoded(Buffer.from(`${line(1)}\n${line(2)}\n`));
    log.append(line(3));
    log.appendEncoded(Buffer.from(`${line(4)}\n`));
    expect(readFileSync(file, 'utf8')).toBe('');
    log.flush(seedTime + 4);
    log.close();
    expect(readFileSync(file, 'utf8')).toBe([0, 1, 2, 3, 4].map((offset) => `${line(offset)}\n`).join(''));
  });

  it('cuts a partial last line off at startup and returns the complete lines of the last commit', () => {
    const file = join(tempDir(), 'connections.log');
    const earlier = line(0);
    const last = [line(5, 0xc0000201), line(5, 0xc0000202)];
    writeFileSync(file, `${earlier}\n${last.join('\n')}\n${line(5, 0xc0000203).slice(0, 40)}`);
    const log = openConnectionLog({ file }, 'utc');
    expect(log.prepareTail()).toEqual({ lastAt: seedTime + 5, lastLines: last, cutBytes: 40 });
    log.append(line(5, 0xc0000203));
    log.flush();
    log.close();
    expect(readFileSync(file, 'utf8')).toBe(`${earlier}\n${last.join('\n')}\n${line(5, 0xc0000203)}\n`);
  });

  it('takes only commit lines as what the file ends with, not the tunnel lines written after them', () => {
    const file = join(tempDir(), 'connections.log');
    const last = [line(5, 0xc0000201), line(5, 0xc0000202)];
    const tunnel = `${line(9).slice(0, 26)} Tunnel up 192.0.2.1 vni 0x123456 64:ff9b::c633:640a dev nat64bp0`;
    writeFileSync(file, `${line(0)}\n${last.join('\n')}\n${tunnel}\n`);
    const log = openConnectionLog({ file }, 'utc');
    expect(log.prepareTail()).toEqual({ lastAt: seedTime + 5, lastLines: last, cutBytes: 0 });
    log.close();
  });

  it('reads a last commit longer than one read back from the end of the file', () => {
    const file = join(tempDir(), 'connections.log');
    const last = Array.from({ length: 3000 }, (_, i) => line(9, 0xc0000000 + i));
    writeFileSync(file, `${line(1)}\n${last.join('\n')}\n`);
    const log = openConnectionLog({ file }, 'utc');
    expect(log.prepareTail()?.lastLines).toEqual(last);
    log.close();
  });

  it('holds lines when the file cannot be reopened, without throwing, and writes them once it can', async () => {
    const dir = join(tempDir(), 'logs');
    mkdirSync(dir);
    const file = join(dir, 'connections.log');
    const events: string[] = [];
    const log = openConnectionLog({ file }, 'utc', {
      stalled: (error, doing) => events.push(`stalled ${doing} ${error.code}`),
      resumed: () => events.push('resumed'),
      reopened: () => events.push('reopened'),
    });
    log.append(line(0));
    log.flush(seedTime);
    rmSync(dir, { recursive: true });
    expect(() => log.reopen()).not.toThrow();
    log.append(line(1));
    log.flush(seedTime + 1);
    let written: boolean | undefined;
    log.afterWritten((done) => (written = done));
    expect([log.stalled, written, log.unwrittenCommits()]).toEqual([true, undefined, [seedTime + 1]]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(written).toBeUndefined();
    mkdirSync(dir);
    await waitFor('the retry', () => written);
    expect(readFileSync(file, 'utf8')).toBe(`${line(1)}\n`);
    expect(events).toEqual(['stalled reopen ENOENT', 'reopened', 'resumed']);
    expect(log.unwrittenCommits()).toEqual([]);
    log.close();
  });

  it('tells whoever waits that their lines were not written when it closes before it could write them', () => {
    const dir = join(tempDir(), 'logs');
    mkdirSync(dir);
    const log = openConnectionLog({ file: join(dir, 'connections.log') }, 'utc');
    rmSync(dir, { recursive: true });
    log.reopen();
    log.append(line(0));
    log.flush();
    const outcomes: boolean[] = [];
    log.afterWritten((done) => outcomes.push(done));
    log.close();
    expect(outcomes).toEqual([false]);
  });
});
