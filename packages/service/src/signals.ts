// Process signals, the way a systemd service expects them: SIGTERM and SIGINT ask for a graceful
// shutdown (a second one forces it), SIGHUP asks to reopen log files.

export type ShutdownSignal = 'SIGTERM' | 'SIGINT';

/** Resolves with the first shutdown signal. A second signal exits immediately with 130. */
export function waitForShutdown(): Promise<ShutdownSignal> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: ShutdownSignal) => {
      if (received) process.exit(130);
      received = true;
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Calls `reopen` on every SIGHUP (logrotate's postrotate convention). Returns an unsubscribe. */
export function onReopenSignal(reopen: () => void): () => void {
  process.on('SIGHUP', reopen);
  return () => process.off('SIGHUP', reopen);
}
