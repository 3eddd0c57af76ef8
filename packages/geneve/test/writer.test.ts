import { describe, expect, it } from 'vitest';
import { GeneveWriter } from '@nat64/geneve';
import { bytes } from './support/bytes.js';
import { AUTH_KEY_ID, AUTH_SECRET, CONTROL_PAYLOAD, GENEVE_AUTH, GENEVE_CONTROL, GENEVE_MAPPING, GENEVE_PLAIN } from './support/vectors.js';
import { INNER, MAPPING_VALUE, VNI } from './support/vectors.js';

const auth = { keyId: AUTH_KEY_ID, secret: AUTH_SECRET };

function frame(writer: GeneveWriter, payload: Uint8Array, control: boolean, withMapping: boolean) {
  const buf = new Uint8Array(writer.maxHeaderLength + payload.length);
  const payloadOffset = writer.maxHeaderLength;
  buf.set(payload, payloadOffset);
  const mapping = withMapping ? MAPPING_VALUE : null;
  const start = control ? writer.writeControl(buf, payloadOffset, payload.length, mapping) : writer.writeData(buf, payloadOffset, payload.length, mapping);
  return { buf, start, payloadOffset };
}

describe('writer', () => {
  it('writes the golden Geneve headers, ending exactly at the payload', () => {
    const cases = [
      { writer: new GeneveWriter({ vni: VNI }), payload: INNER, control: false, mapping: false, header: GENEVE_PLAIN },
      { writer: new GeneveWriter({ vni: VNI }), payload: INNER, control: false, mapping: true, header: GENEVE_MAPPING },
      { writer: new GeneveWriter({ vni: VNI, auth }), payload: INNER, control: false, mapping: false, header: GENEVE_AUTH },
      { writer: new GeneveWriter({ vni: VNI, auth }), payload: CONTROL_PAYLOAD, control: true, mapping: false, header: GENEVE_CONTROL },
    ];
    for (const c of cases) {
      const { buf, start, payloadOffset } = frame(c.writer, c.payload, c.control, c.mapping);
      expect(payloadOffset - start).toBe(c.header.length);
      expect(buf.subarray(start)).toEqual(bytes(c.header, c.payload));
    }
  });

  it('puts the mapping before the auth option and signs both', () => {
    const writer = new GeneveWriter({ vni: VNI, auth, optionClass: 0xff00 });
    expect(writer.maxHeaderLength).toBe(8 + 40 + 24);
    const { buf, start } = frame(writer, INNER, false, true);
    expect(buf.subarray(start, start + 4)).toEqual(bytes('10 00 08 00')); // Opt Len 16 words
    expect(buf.subarray(start + 8, start + 12)).toEqual(bytes('ff 00 01 09'));
    expect(buf.subarray(start + 48, start + 52)).toEqual(bytes('ff 00 02 05'));
  });

  it('refuses too little headroom, a payload past the buffer, and bad configuration', () => {
    const writer = new GeneveWriter({ vni: VNI });
    expect(() => writer.writeData(new Uint8Array(40), 7, 33, null)).toThrow(RangeError);
    expect(() => writer.writeData(new Uint8Array(40), 8, 33, null)).toThrow(RangeError);
    expect(writer.writeData(new Uint8Array(40), 8, 32, null)).toBe(0);
    expect(() => new GeneveWriter({ vni: -1 })).toThrow(RangeError);
    expect(() => new GeneveWriter({ vni: 1, optionClass: 0x10000 })).toThrow(RangeError);
    expect(() => new GeneveWriter({ vni: 1, auth: { keyId: 1, secret: new Uint8Array(8) } })).toThrow(RangeError);
  });
});
