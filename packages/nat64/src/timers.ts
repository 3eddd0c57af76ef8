// Timer lists: intrusive doubly linked lists over the session arrays, one per timer class (and per handed-off
// flag). Every session of a class has the same timeout, so a list kept in order of last use is also in order
// of expiry: refresh is "move to tail" and expiry pops from the head, both O(1).

import { HANDED_OFF_LIST_OFFSET, SESSION_HANDED_OFF, type SessionTable } from './sessions.js';

/** The timer list for a session of this class with these flags. */
export function listOf(timerClass: number, flags: number): number {
  return (flags & SESSION_HANDED_OFF) !== 0 ? timerClass + HANDED_OFF_LIST_OFFSET : timerClass;
}

/** The timer class of a timer list. */
export function classOf(list: number): number {
  return list >= HANDED_OFF_LIST_OFFSET ? list - HANDED_OFF_LIST_OFFSET : list;
}

/**
 * Puts session `i` (on no list) at the tail of `list`, last used at `now`. A `now` older than the tail's is
 * raised to it, so a caller mixing clocks can only lengthen a lifetime, never break the order.
 */
export function appendTimer(s: SessionTable, list: number, i: number, now: number): void {
  const tail = s.listTail[list]!;
  s.list[i] = list;
  s.timerNext[i] = -1;
  s.timerPrev[i] = tail;
  if (tail >= 0) {
    s.timerNext[tail] = i;
    const last = s.lastUse[tail]!;
    s.lastUse[i] = Math.max(now, last);
  } else {
    s.listHead[list] = i;
    s.lastUse[i] = now;
  }
  s.listTail[list] = i;
}

/** Takes session `i` off its timer list. */
export function unlinkTimer(s: SessionTable, i: number): void {
  const list = s.list[i]!;
  const prev = s.timerPrev[i]!;
  const next = s.timerNext[i]!;
  if (prev >= 0) s.timerNext[prev] = next;
  else s.listHead[list] = next;
  if (next >= 0) s.timerPrev[next] = prev;
  else s.listTail[list] = prev;
  s.timerNext[i] = -1;
  s.timerPrev[i] = -1;
}

/** Marks session `i` used at `now` on `list` (its own or another class's). */
export function touchTimer(s: SessionTable, list: number, i: number, now: number): void {
  if (s.listTail[list] === i) {
    // Already last: only the time moves (never backwards).
    if (now > s.lastUse[i]!) s.lastUse[i] = now;
    return;
  }
  unlinkTimer(s, i);
  appendTimer(s, list, i, now);
}

/**
 * Puts session `i` (on no list) on `list` at the place its `lastUse` sorts to, scanning from the tail. Used
 * when a session changes lists without being used (handed off or taken back), so its lifetime stays exact;
 * that usually happens right after the session was used, so the scan is short. A session that sorts more
 * than `maxSteps` places back goes there with its last use raised to its new neighbour's: its lifetime
 * lengthens a little, never shortens, and the list stays in order at a bounded cost.
 */
export function insertTimerSorted(s: SessionTable, list: number, i: number, lastUse: number, maxSteps = Infinity): void {
  let prev = s.listTail[list]!;
  for (let steps = 0; prev >= 0 && s.lastUse[prev]! > lastUse; steps++) {
    if (steps >= maxSteps) {
      lastUse = s.lastUse[prev]!;
      break;
    }
    prev = s.timerPrev[prev]!;
  }
  const next = prev >= 0 ? s.timerNext[prev]! : s.listHead[list]!;
  s.list[i] = list;
  s.lastUse[i] = lastUse;
  s.timerPrev[i] = prev;
  s.timerNext[i] = next;
  if (prev >= 0) s.timerNext[prev] = i;
  else s.listHead[list] = i;
  if (next >= 0) s.timerPrev[next] = i;
  else s.listTail[list] = i;
}
