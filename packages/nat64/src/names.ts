// Names of the numeric codes, for log lines and the `sessions` listing (not for hot paths).

import { DELETE_REASON, TCP_STATE, VERDICT } from './constants.js';

function invert(table: Readonly<Record<string, number>>): Map<number, string> {
  return new Map(Object.entries(table).map(([name, code]) => [code, name]));
}

const VERDICT_NAMES = invert(VERDICT);
const REASON_NAMES = invert(DELETE_REASON);
const STATE_NAMES = invert(TCP_STATE);

/** "NO_BIB", "FILTERED", ...; "HANDLE" for a non-negative result. */
export function verdictName(result: number): string {
  return result >= 0 ? 'HANDLE' : (VERDICT_NAMES.get(result) ?? `UNKNOWN(${result})`);
}

export function deleteReasonName(reason: number): string {
  return REASON_NAMES.get(reason) ?? `UNKNOWN(${reason})`;
}

export function tcpStateName(state: number): string {
  return STATE_NAMES.get(state) ?? `UNKNOWN(${state})`;
}
