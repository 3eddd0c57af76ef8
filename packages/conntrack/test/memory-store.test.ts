import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@nat64/conntrack';
import { T0, tcp } from './helpers/entries.js';
import { memoryHarness } from './helpers/stores.js';
import { storeContract } from './store-suite.js';

describe('memory-store', () => {
  storeContract(memoryHarness);

  it('hands out the same data on reopen, as reopening a file would', () => {
    const store = new MemoryStore();
    store.commit([{ kind: 'created', entry: tcp(1), at: T0 }], [['w', new Uint8Array([1])]]);
    store.close();
    const again = store.reopen();
    expect([...again.loadCurrent()].map((entry) => entry.natPort)).toEqual([1]);
    expect(again.getSide('w')).toEqual(new Uint8Array([1]));
  });
});
