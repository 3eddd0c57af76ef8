// Expiry: pops due sessions from the head of each timer list (O(expired)), applying RFC 6146 3.5.2.2 to TCP
// (an idle ESTABLISHED session moves to TRANS for a probe, others are deleted) and evicting handed-off
// sessions instead of deleting them. Also hands back held IPv4 SYNs whose 6 seconds ran out.

import { DELETE_REASON, PROTOCOL, SPEC, TCP_STATE, TIMER_CLASS, type DeleteReason } from './constants.js';
import type { Core } from './core.js';
import { COUNTER } from './counters.js';
import { HANDED_OFF_LIST_OFFSET, SESSION_RST, TIMER_LIST_COUNT } from './sessions.js';
import { classOf, touchTimer } from './timers.js';

const NO_PACKETS: readonly Uint8Array[] = Object.freeze([]);

/** Why an expired authoritative TCP session goes away. */
function tcpReason(state: number, flags: number): DeleteReason {
  if (state === TCP_STATE.V4_FIN_V6_FIN_RCV) return DELETE_REASON.TCP_CLOSED;
  if (state === TCP_STATE.TRANS && (flags & SESSION_RST) !== 0) return DELETE_REASON.RST;
  return DELETE_REASON.TIMEOUT;
}

/**
 * Processes what is due at `now`, at most `budget` sessions (the rest stays due for the next call, so a mass
 * expiry can be spread over ticks instead of stalling the datapath). Returns the expired held SYNs.
 */
export function expire(c: Core, now: number, budget: number): readonly Uint8Array[] {
  let expiredSyns: Uint8Array[] | undefined;
  if (c.held.count > 0) {
    const out: Uint8Array[] = [];
    c.held.expire(now, SPEC.TCP_INCOMING_SYN_MS, out);
    if (out.length > 0) {
      c.counters[COUNTER.heldSynsExpired]! += out.length;
      expiredSyns = out;
    }
  }
  const s = c.sessions;
  let left = budget;
  for (let list = 0; list < TIMER_LIST_COUNT && left > 0; list++) {
    const timeout = c.timeouts[classOf(list)]!;
    for (let h = s.listHead[list]!; h >= 0 && s.lastUse[h]! + timeout <= now && left-- > 0; h = s.listHead[list]!) {
      if (list >= HANDED_OFF_LIST_OFFSET) {
        // A cache entry: the authority still holds the connection, so this is an eviction, not a deletion.
        c.deleteSession(h, DELETE_REASON.EVICTED);
      } else if (s.protocol[h] === PROTOCOL.TCP && s.state[h] === TCP_STATE.ESTABLISHED) {
        // RFC 6146 3.5.2.2 ESTABLISHED: lifetime ran out, probe an endpoint and move to TRANS.
        s.state[h] = TCP_STATE.TRANS;
        s.flags[h]! &= ~SESSION_RST;
        touchTimer(s, TIMER_CLASS.TCP_TRANS, h, now);
        c.count(COUNTER.tcpProbesDue);
        c.listener.tcpProbe(h);
      } else if (s.protocol[h] === PROTOCOL.TCP) {
        c.deleteSession(h, tcpReason(s.state[h]!, s.flags[h]!));
      } else {
        c.deleteSession(h, DELETE_REASON.TIMEOUT);
      }
    }
  }
  return expiredSyns ?? NO_PACKETS;
}
