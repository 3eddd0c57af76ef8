import { describe, expect, it } from 'vitest';
import { classifySequence, nextSequence } from '../src/sequence.js';

describe('sequence', () => {
  it('classifies against the cumulative point and the window', () => {
    expect(classifySequence(0, 1, 16)).toBe('next');
    expect(classifySequence(5, 5, 16)).toBe('duplicate');
    expect(classifySequence(5, 2, 16)).toBe('duplicate');
    expect(classifySequence(5, 7, 16)).toBe('ahead');
    expect(classifySequence(5, 21, 16)).toBe('ahead');
    expect(classifySequence(5, 22, 16)).toBe('beyond-window');
  });

  it('wraps around 2^32 with serial arithmetic', () => {
    expect(classifySequence(0xffffffff, 0, 16)).toBe('next');
    expect(classifySequence(0xfffffffe, 1, 16)).toBe('ahead');
    expect(classifySequence(2, 0xffffffff, 16)).toBe('duplicate');
    expect(nextSequence(0xffffffff)).toBe(0);
  });
});
