// A connection log in memory for engine tests: every appended line lands in `lines` without its
// timestamp ("2019-03-18 10:06:28.436754 " is 27 characters), and everything is written at once.
import type { ConnectionLog } from '../../src/conn-log.js';

const TIMESTAMP_CHARS = 27;

export function memoryLog(lines: string[]): ConnectionLog {
  return {
    zone: 'utc',
    append: (line) => void lines.push(line.slice(TIMESTAMP_CHARS)),
    appendEncoded: (bytes) => {
      for (const line of Buffer.from(bytes).toString('utf8').split('\n').slice(0, -1)) lines.push(line.slice(TIMESTAMP_CHARS));
    },
    flush: () => undefined,
    afterWritten: (done) => done(true),
    stalled: false,
    unwrittenCommits: () => [],
    reopen: () => undefined,
    prepareTail: () => undefined,
    finish: () => undefined,
    close: () => undefined,
  };
}
