// The agent-against-receiver suite (agent-receiver-suite.ts) against each receiver (support/receivers.ts).
import { describe } from 'vitest';
import { agentAgainstReceiver } from './agent-receiver-suite.js';
import { startDaemonReceiver, startPackageReceiver } from './support/receivers.js';

describe('HandoffAgent against the receiver package over loopback UDP', () => {
  agentAgainstReceiver(startPackageReceiver);
});

describe('HandoffAgent against the receiver daemon over loopback UDP', () => {
  agentAgainstReceiver(startDaemonReceiver);
});
