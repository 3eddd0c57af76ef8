// fast-check generators shared by the codec and decoder tests.
import fc from 'fast-check';
import type { GeneveHeader, GeneveOption } from '@nat64/geneve';

export const option: fc.Arbitrary<GeneveOption> = fc.record({
  optionClass: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constant(0xff64)),
  type: fc.integer({ min: 0, max: 0xff }),
  data: fc.integer({ min: 0, max: 31 }).chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 })),
});

/** Option lists cut to fit the 252 bytes Opt Len can express. */
export const options: fc.Arbitrary<GeneveOption[]> = fc.array(option, { maxLength: 12 }).map((list) => {
  const kept: GeneveOption[] = [];
  let total = 0;
  for (const o of list) {
    if (total + 4 + o.data.length > 252) continue;
    total += 4 + o.data.length;
    kept.push(o);
  }
  return kept;
});

export const header: fc.Arbitrary<GeneveHeader> = fc.record({
  oam: fc.boolean(),
  protocolType: fc.oneof(fc.constantFrom(0x0800, 0x86dd, 0x6558, 0x88b5), fc.integer({ min: 0, max: 0xffff })),
  vni: fc.integer({ min: 0, max: 0xff_ffff }),
  options,
});
