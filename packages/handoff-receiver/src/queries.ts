// QUERY (handoff-v1 section 6.5): an ANSWER from the authoritative table, within the per-address
// query rate; a receiver that is not authoritative answers NOT_AUTHORITATIVE. A found entry is
// touched, so a gateway asking about it keeps it from ending as idle.
import { AnswerStatus } from '@nat64/handoff-codec';
import { connKey } from '@nat64/conntrack';
import type { ReceiverCore } from './core.js';
import { authenticatedPeer } from './hello.js';
import type { Via } from './peers.js';
import { answer, type AnswerOutcome } from './replies.js';

export function onQuery(core: ReceiverCore, address: string, port: number, key: Uint8Array | undefined, via: Via): void {
  const peer = authenticatedPeer(core, address, port, key, true, via);
  if (!peer) return;
  if (!core.limits.query(address)) {
    core.count('queryRateLimited');
    return;
  }
  const view = core.view;
  const context = { epoch: peer.epoch, cookie: peer.cookie, key };
  let outcome: AnswerOutcome;
  if (!core.deps.options.authoritative) {
    outcome = { status: AnswerStatus.NOT_AUTHORITATIVE };
  } else {
    if (view.natAddress !== peer.natAddress) {
      core.count('natAddressMismatch');
      return;
    }
    const tableKey = connKey(view.protocol, view.natAddress, view.natPort);
    const held = tableKey >= 0 ? core.deps.table.get(tableKey) : undefined;
    if (held) {
      core.deps.table.touch(tableKey);
      outcome = {
        status: AnswerStatus.FOUND,
        entry: { ...held, reason: 0, time: held.createdAt },
      };
      core.count('answersFound');
    } else {
      outcome = { status: AnswerStatus.NOT_FOUND };
      core.count('answersNotFound');
    }
  }
  core.deps.send(answer(context, view.sequence, outcome), port, address, via, peer.cookie);
  core.count('queriesAnswered');
}
