// Waiting for something observable (a log line, a file, a listening port) instead of sleeping.
import type { Readable } from 'node:stream';

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Resolves with the first line of `stream` that matches, keeping everything read in `seen`. */
export function waitForLine(stream: Readable, pattern: RegExp, timeoutMs = 10_000, seen: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => {
      stream.off('data', onData);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for a line matching ${pattern}; saw:\n${seen.join('\n')}`));
    }, timeoutMs);
    const onData = (chunk: Buffer | string) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        seen.push(line);
        if (pattern.test(line)) {
          clearTimeout(timer);
          stream.off('data', onData);
          resolve(line);
          return;
        }
      }
    };
    stream.on('data', onData);
  });
}
