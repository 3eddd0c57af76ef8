import { describe, expect, it } from 'vitest';
import { codeNames } from '../src/codes.js';

describe('codes', () => {
  it('names each code of a table by its key, in lower kebab case, at its index', () => {
    const Status = { FRAME: 0, AUDIT_MIRROR: 1, OPTION_FROM_SERVER: 2 } as const;
    expect(codeNames(Status)).toEqual(['frame', 'audit-mirror', 'option-from-server']);
  });

  it('places names by code, not by the order the keys are written in', () => {
    expect(codeNames({ B_SECOND: 1, A_FIRST: 0 })).toEqual(['a-first', 'b-second']);
  });
});
