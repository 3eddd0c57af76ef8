// What a daemon tells systemd over its life (Type=notify, WatchdogSec=): READY=1 once it serves,
// RELOADING=1 and READY=1 around a reload, STOPPING=1 at shutdown, EXTEND_TIMEOUT_USEC= through a
// long step of its start, and WATCHDOG=1 from its main
// loop's timer at half the watchdog period, so that a stuck loop gets it restarted.
import { notify } from './notify.js';

export interface NotifierOptions {
  environment?: NodeJS.ProcessEnv;
  /** Monotonic milliseconds. */
  now?: () => number;
  /** The first failed send of an outage (until a send succeeds again); the daemon goes on. */
  onError?: (error: Error) => void;
  send?: (state: string, environment: NodeJS.ProcessEnv) => boolean;
}

export class ServiceNotifier {
  /** Half of $WATCHDOG_USEC in milliseconds, when the watchdog is on for this process. */
  readonly watchdogIntervalMs: number | undefined;
  private lastWatchdog = -Infinity;
  private failing = false;
  private readonly environment: NodeJS.ProcessEnv;
  private readonly now: () => number;
  private readonly send: (state: string, environment: NodeJS.ProcessEnv) => boolean;
  private readonly onError: (error: Error) => void;

  constructor(options: NotifierOptions = {}) {
    this.environment = options.environment ?? process.env;
    this.now = options.now ?? (() => performance.now());
    this.send = options.send ?? notify;
    this.onError = options.onError ?? (() => {});
    this.watchdogIntervalMs = watchdogIntervalMs(this.environment);
  }

  /** Whether a service manager listens ($NOTIFY_SOCKET is set). */
  get enabled(): boolean {
    return (this.environment.NOTIFY_SOCKET ?? '') !== '';
  }

  ready(status?: string): void {
    this.post(status === undefined ? 'READY=1' : `READY=1\nSTATUS=${oneLine(status)}`);
  }

  reloading(): void {
    this.post(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`);
  }

  status(text: string): void {
    this.post(`STATUS=${oneLine(text)}`);
  }

  /** While starting or stopping: the service manager's timeout is extended to `ms` from now; send again before it runs out. */
  extendTimeout(ms: number, status: string): void {
    this.post(`EXTEND_TIMEOUT_USEC=${Math.round(ms * 1000)}\nSTATUS=${oneLine(status)}`);
  }

  stopping(): void {
    this.post('STOPPING=1');
  }

  /** Called from the main loop's timer: sends WATCHDOG=1 when half the watchdog period has passed. */
  tick(): void {
    if (this.watchdogIntervalMs === undefined) return;
    const now = this.now();
    if (now - this.lastWatchdog < this.watchdogIntervalMs) return;
    this.lastWatchdog = now;
    this.post('WATCHDOG=1');
  }

  private post(state: string): void {
    if (!this.enabled) return;
    try {
      this.send(state, this.environment);
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.onError(error as Error);
      this.failing = true;
    }
  }
}

/** Half of $WATCHDOG_USEC, unless $WATCHDOG_PID names another process (as sd_watchdog_enabled(3)). */
export function watchdogIntervalMs(environment: NodeJS.ProcessEnv, pid = process.pid): number | undefined {
  const usec = environment.WATCHDOG_USEC;
  if (usec === undefined || !/^[1-9]\d*$/.test(usec)) return undefined;
  const forPid = environment.WATCHDOG_PID;
  if (forPid !== undefined && forPid !== '' && Number(forPid) !== pid) return undefined;
  return Number(usec) / 2000;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
