// Loads the addon (build/Release/sd_notify.node) on first use: a daemon not started by systemd
// never needs it. Both src/ and dist/ sit one level below the package root.
import { createRequire } from 'node:module';

export interface NativeNotify {
  /** 0 when sent, else the errno of the step that failed. */
  send(socketPath: string, state: string): number;
}

let binding: NativeNotify | undefined;

export function loadNative(): NativeNotify {
  binding ??= createRequire(import.meta.url)('../build/Release/sd_notify.node') as NativeNotify;
  return binding;
}
