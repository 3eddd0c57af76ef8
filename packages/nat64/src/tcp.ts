// The TCP session state machine of RFC 6146 3.5.2.2, as a pure function of the state, the direction and the
// flags of one segment. Session creation (CLOSED), the held SYN and expiry live in the table; this is what a
// segment does to a session that exists.

import { TCP_FLAG, TCP_STATE } from './constants.js';

/** What a segment does to the session timer. */
export const TIMER_ACTION = {
  /** Lifetime unchanged. */
  NONE: 0,
  /** Lifetime set to TCP_EST from now. */
  EST: 1,
  /** Lifetime set to TCP_TRANS from now. */
  TRANS: 2,
} as const;

/** Result packing: new state in the low 3 bits, timer action above. */
export const STEP_STATE_MASK = 7;
export const STEP_ACTION_SHIFT = 3;

function step(state: number, action: number): number {
  return state | (action << STEP_ACTION_SHIFT);
}

/**
 * The next state and timer action for a segment of a session in `state`; `fromV6` is true for a segment
 * from the IPv6 client (outbound). Decode with STEP_STATE_MASK / STEP_ACTION_SHIFT.
 */
export function tcpStep(state: number, fromV6: boolean, flags: number): number {
  const syn = (flags & TCP_FLAG.SYN) !== 0;
  const fin = (flags & TCP_FLAG.FIN) !== 0;
  const rst = (flags & TCP_FLAG.RST) !== 0;
  switch (state) {
    case TCP_STATE.V4_INIT:
      // A V6 SYN completes a simultaneous open or answers the IPv4 SYN.
      return syn && fromV6 ? step(TCP_STATE.ESTABLISHED, TIMER_ACTION.EST) : step(state, TIMER_ACTION.NONE);
    case TCP_STATE.V6_INIT:
      // A V4 SYN (with or without ACK) answers; a repeated V6 SYN keeps the transitory lifetime going.
      if (syn && !fromV6) return step(TCP_STATE.ESTABLISHED, TIMER_ACTION.EST);
      if (syn) return step(state, TIMER_ACTION.TRANS);
      return step(state, TIMER_ACTION.NONE);
    case TCP_STATE.ESTABLISHED:
      if (rst) return step(TCP_STATE.TRANS, TIMER_ACTION.TRANS);
      if (fin) return step(fromV6 ? TCP_STATE.V6_FIN_RCV : TCP_STATE.V4_FIN_RCV, TIMER_ACTION.EST);
      return step(state, TIMER_ACTION.EST);
    case TCP_STATE.V4_FIN_RCV:
      if (fin && fromV6) return step(TCP_STATE.V4_FIN_V6_FIN_RCV, TIMER_ACTION.TRANS);
      return step(state, TIMER_ACTION.EST);
    case TCP_STATE.V6_FIN_RCV:
      if (fin && !fromV6) return step(TCP_STATE.V4_FIN_V6_FIN_RCV, TIMER_ACTION.TRANS);
      return step(state, TIMER_ACTION.EST);
    case TCP_STATE.V4_FIN_V6_FIN_RCV:
      // Both sides closed: segments pass, the transitory timer runs out.
      return step(state, TIMER_ACTION.NONE);
    case TCP_STATE.TRANS:
      // Any segment but a RST shows the connection alive again.
      return rst ? step(state, TIMER_ACTION.NONE) : step(TCP_STATE.ESTABLISHED, TIMER_ACTION.EST);
    default:
      return step(state, TIMER_ACTION.NONE);
  }
}
