import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECAP_STATUS_COUNT, DECAP_STATUS_NAMES, DecapStatus, GeneveDecodeError, GeneveView } from '@nat64/geneve';
import { createReceivePolicy, decapsulate, geneveHeader, isDrop, mappingOption } from '@nat64/geneve';
import type { GeneveHeader } from '@nat64/geneve';
import { header } from './support/arbitraries.js';
import { bytes } from './support/bytes.js';
import { AUTH_KEY_ID, AUTH_SECRET, CONTROL_PAYLOAD, GENEVE_AUTH, GENEVE_CONTROL, GENEVE_MAPPING, GENEVE_PLAIN } from './support/vectors.js';
import { INNER, MAPPING_DATA, MAPPING_VALUE, VNI } from './support/vectors.js';

const open = createReceivePolicy();
const strict = createReceivePolicy({ vni: VNI, authKeys: new Map([[AUTH_KEY_ID, AUTH_SECRET]]) });
const view = new GeneveView();

function run(packet: Uint8Array, policy = open, offset = 0): number {
  return decapsulate(packet, offset, packet.length - offset, view, policy);
}

/** A data packet: fixed header with the given first two octets and protocol, options, inner IPv4. */
function data(first: string, options: string | Uint8Array = '', protocol = '08 00', payload: Uint8Array = INNER): Uint8Array {
  return bytes(`${first} ${protocol}`, '12 34 56 00', options, payload);
}

describe('decap', () => {
  it('names every status once', () => {
    expect(DECAP_STATUS_NAMES).toHaveLength(DECAP_STATUS_COUNT);
    expect(new Set(DECAP_STATUS_NAMES).size).toBe(DECAP_STATUS_COUNT);
    expect(Object.values(DecapStatus).sort((a, b) => a - b)).toEqual([...Array(DECAP_STATUS_COUNT).keys()]);
    expect(isDrop(DecapStatus.DATA) || isDrop(DecapStatus.CONTROL)).toBe(false);
    expect(isDrop(DecapStatus.AUTH_FAILED)).toBe(true);
  });

  it('reads the golden plain packet into the view', () => {
    const buf = bytes('ff ff', GENEVE_PLAIN, INNER);
    expect(run(buf, open, 2)).toBe(DecapStatus.DATA);
    expect(view).toMatchObject({ buf, start: 2, oam: false, criticalFlag: false, protocolType: 0x0800, vni: VNI });
    expect(view).toMatchObject({ optionsOffset: 10, optionsLength: 0, payloadOffset: 10, payloadLength: 32, hasMapping: false, hasAuth: false });
    expect(view.failOffset).toBe(-1);
  });

  it('reads the golden mapping option into the view', () => {
    expect(run(bytes(GENEVE_MAPPING, INNER))).toBe(DecapStatus.DATA);
    expect(view).toMatchObject({ optionsOffset: 8, optionsLength: 40, payloadOffset: 48, skippedOptions: 0, hasMapping: true });
    expect(view).toMatchObject({ protocol: 17, event: 1, natAddress: 0xc633640a, natPort: 40000, clientPort: 5353 });
    expect(view.creationTimeUs).toBe(MAPPING_VALUE.creationTimeUs);
    expect(view.clientAddressOffset).toBe(24);
    const client = new Uint8Array(18);
    view.copyClientAddress(client, 2);
    expect(client.subarray(2)).toEqual(MAPPING_VALUE.clientAddress);
  });

  it('verifies the golden auth packet and the golden control packet', () => {
    expect(run(bytes(GENEVE_AUTH, INNER), strict)).toBe(DecapStatus.DATA);
    expect(view).toMatchObject({ hasAuth: true, authKeyId: 1, authTagOffset: 16 });
    expect(run(bytes(GENEVE_CONTROL, CONTROL_PAYLOAD), strict)).toBe(DecapStatus.CONTROL);
    expect(view).toMatchObject({ oam: true, protocolType: 0x88b5, payloadOffset: 32, payloadLength: 8 });
  });

  it('drops a packet cut short at each field boundary of the fixed header', () => {
    for (let length = 0; length < 8; length++) {
      expect(run(GENEVE_PLAIN.subarray(0, length))).toBe(DecapStatus.TRUNCATED);
      expect(view.failOffset).toBe(length);
    }
  });

  it('drops a packet cut short inside its options, or inside the inner header', () => {
    const full = bytes(GENEVE_MAPPING, INNER);
    for (let length = 8; length < 48; length += 4) expect(run(full.subarray(0, length))).toBe(DecapStatus.OPTIONS_TRUNCATED);
    expect(run(full.subarray(0, 48))).toBe(DecapStatus.BAD_INNER);
    expect(run(full.subarray(0, 67))).toBe(DecapStatus.BAD_INNER);
    expect(run(full.subarray(0, 68))).toBe(DecapStatus.DATA);
  });

  it('drops every version other than 0', () => {
    for (const first of ['40 00', '80 00', 'c0 00']) expect(run(data(first))).toBe(DecapStatus.BAD_VERSION);
  });

  it('drops a packet whose Opt Len reaches past its end', () => {
    expect(run(bytes('3f 00 08 00 12 34 56 00', new Uint8Array(248)))).toBe(DecapStatus.OPTIONS_TRUNCATED);
  });

  it('drops a packet whose option length reaches past Opt Len, even behind an unknown critical option', () => {
    expect(run(data('01 00', 'ff 64 01 01'))).toBe(DecapStatus.OPTION_OVERRUN);
    const packet = bytes('03 00 08 00 12 34 56 00', '00 01 80 00', '00 02 00 02 00 00 00 00', INNER);
    expect(run(packet)).toBe(DecapStatus.OPTION_OVERRUN);
    expect(view.failOffset).toBe(15);
  });

  it('accepts 252 bytes of options, the most Opt Len can express', () => {
    const options = bytes('00 10 00 1f', new Uint8Array(124), '00 11 00 1e', new Uint8Array(120));
    const packet = bytes('3f 00 08 00 12 34 56 00', options, INNER);
    expect(run(packet)).toBe(DecapStatus.DATA);
    expect(view).toMatchObject({ optionsLength: 252, payloadOffset: 260, skippedOptions: 2 });
  });

  it('drops an unknown critical option, of another class or of ours', () => {
    expect(run(data('01 40', '01 02 85 00'))).toBe(DecapStatus.UNKNOWN_CRITICAL);
    expect(view.failOffset).toBe(8);
    expect(run(data('01 40', 'ff 64 81 00'))).toBe(DecapStatus.UNKNOWN_CRITICAL);
    expect(run(data('01 40', 'ff 64 83 00'))).toBe(DecapStatus.UNKNOWN_CRITICAL);
  });

  it('skips unknown non-critical options, of another class or of ours', () => {
    expect(run(data('03 00', '01 02 05 01 aa aa aa aa ff 64 7f 00'))).toBe(DecapStatus.DATA);
    expect(view.skippedOptions).toBe(2);
  });

  it('drops a packet with an unknown critical option even when C is clear', () => {
    expect(run(data('01 00', '01 02 85 00'))).toBe(DecapStatus.UNKNOWN_CRITICAL);
    expect(view.criticalFlag).toBe(false);
  });

  it('accepts C set without any critical option', () => {
    expect(run(data('01 40', '01 02 05 00'))).toBe(DecapStatus.DATA);
    expect(view).toMatchObject({ criticalFlag: true, criticalOptions: 0 });
  });

  it('decides the same whether C is set or clear', () => {
    fc.assert(
      fc.property(header, (value) => {
        const buf = new Uint8Array(geneveHeader.encodingLength(value) + INNER.length);
        buf.set(INNER, geneveHeader.encode(value, buf));
        const asSent = run(buf);
        buf[1] = buf[1]! ^ 0x40;
        expect(run(buf)).toBe(asSent);
      }),
    );
  });

  it('drops data packets whose Protocol Type is not IPv4', () => {
    for (const protocol of ['86 dd', '65 58', '88 b5', '00 00']) {
      expect(run(data('00 00', '', protocol))).toBe(DecapStatus.BAD_PROTOCOL);
      expect(view.failOffset).toBe(2);
    }
  });

  it('drops control packets whose Protocol Type is not ours', () => {
    expect(run(data('00 80', '', '08 00'))).toBe(DecapStatus.BAD_PROTOCOL);
    expect(run(data('00 80', '', '88 b5'))).toBe(DecapStatus.CONTROL);
  });

  it('accepts a control packet with an empty payload that only carries a mapping', () => {
    expect(run(bytes('0a 80 88 b5 12 34 56 00 ff 64 01 09', MAPPING_DATA))).toBe(DecapStatus.CONTROL);
    expect(view).toMatchObject({ payloadLength: 0, hasMapping: true, event: 1 });
  });

  it('drops a data packet whose payload is not an IPv4 header', () => {
    expect(run(data('00 00', '', '08 00', bytes('60 00 00 00', new Uint8Array(36))))).toBe(DecapStatus.BAD_INNER);
    expect(run(data('00 00', '', '08 00', INNER.subarray(0, 19)))).toBe(DecapStatus.BAD_INNER);
  });

  it('drops a VNI other than the configured one', () => {
    const policy = createReceivePolicy({ vni: VNI + 1 });
    expect(run(bytes(GENEVE_PLAIN, INNER), policy)).toBe(DecapStatus.VNI_MISMATCH);
  });

  it('drops malformed mapping options', () => {
    const short = bytes('ff 64 01 08', MAPPING_DATA.subarray(0, 32));
    expect(run(data('09 00', short))).toBe(DecapStatus.MALFORMED_OPTION);
    const badEvent = MAPPING_DATA.slice();
    badEvent[1] = 9;
    expect(run(data('0a 00', bytes('ff 64 01 09', badEvent)))).toBe(DecapStatus.MALFORMED_OPTION);
    const hugeTime = MAPPING_DATA.slice();
    hugeTime[28] = 0x01;
    expect(run(data('0a 00', bytes('ff 64 01 09', hugeTime)))).toBe(DecapStatus.MALFORMED_OPTION);
    expect(run(data('01 00', 'ff 64 02 00'))).toBe(DecapStatus.MALFORMED_OPTION);
  });

  it('accepts a longer mapping option, ignoring the extra data', () => {
    expect(run(data('0b 00', bytes('ff 64 01 0a', MAPPING_DATA, 'aa aa aa aa')))).toBe(DecapStatus.DATA);
    expect(view.natPort).toBe(40000);
  });

  it('drops duplicated options of ours', () => {
    const twice = bytes('ff 64 01 09', MAPPING_DATA, 'ff 64 01 09', MAPPING_DATA);
    expect(run(data('14 00', twice))).toBe(DecapStatus.DUPLICATE_OPTION);
    expect(view.failOffset).toBe(48);
  });

  it('drops packets that fail authentication, each for its reason', () => {
    expect(run(bytes(GENEVE_PLAIN, INNER), strict)).toBe(DecapStatus.AUTH_MISSING);
    const otherKey = bytes(GENEVE_AUTH, INNER);
    otherKey[12] = 2;
    expect(run(otherKey, strict)).toBe(DecapStatus.AUTH_UNKNOWN_KEY);
    const tampered = bytes(GENEVE_AUTH, INNER);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    expect(run(tampered, strict)).toBe(DecapStatus.AUTH_FAILED);
    const flagged = bytes(GENEVE_AUTH, INNER);
    flagged[1] = 0x40; // even a bit every receiver ignores is covered
    expect(run(flagged, strict)).toBe(DecapStatus.AUTH_FAILED);
    expect(run(flagged, open)).toBe(DecapStatus.DATA);
  });

  it('agrees with the throwing decoder and never throws, on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (buf) => expectAgreement(buf)),
      { numRuns: 2000 },
    );
  });

  it('agrees with the throwing decoder and never throws, on mutations of valid packets', () => {
    const mutated = fc
      .record({
        value: header,
        payload: fc.uint8Array({ maxLength: 64 }),
        edits: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
        cut: fc.nat(),
      })
      .map(({ value, payload, edits, cut }) => {
        const buf = new Uint8Array(geneveHeader.encodingLength(value) + payload.length);
        buf.set(payload, geneveHeader.encode(value, buf));
        for (const edit of edits) buf[edit.at % buf.length] = edit.value;
        return buf.subarray(0, buf.length - (cut % 4 === 0 ? cut % buf.length : 0));
      });
    fc.assert(
      fc.property(mutated, (buf) => expectAgreement(buf)),
      { numRuns: 2000 },
    );
  });

  it('agrees with the throwing decoder on every valid header', () => {
    fc.assert(
      fc.property(header, (value) => {
        const buf = new Uint8Array(geneveHeader.encodingLength(value) + INNER.length);
        buf.set(INNER, geneveHeader.encode(value, buf));
        expectAgreement(buf);
      }),
    );
  });
});

const STRUCTURAL: Record<string, number> = {
  HEADER_TRUNCATED: DecapStatus.TRUNCATED,
  BAD_VERSION: DecapStatus.BAD_VERSION,
  OPTIONS_TRUNCATED: DecapStatus.OPTIONS_TRUNCATED,
  OPTION_OVERRUN: DecapStatus.OPTION_OVERRUN,
};

/** What the options alone should make of a packet, worked out from the decoded value. */
function expectedOptionStatus(value: GeneveHeader): number {
  let mapping = false;
  let auth = false;
  for (const option of value.options) {
    const ours = option.optionClass === 0xff64;
    if (ours && option.type === 1) {
      if (mapping) return DecapStatus.DUPLICATE_OPTION;
      try {
        mappingOption.decode(option.data);
      } catch {
        return DecapStatus.MALFORMED_OPTION;
      }
      mapping = true;
    } else if (ours && option.type === 2) {
      if (auth) return DecapStatus.DUPLICATE_OPTION;
      if (option.data.length < 20) return DecapStatus.MALFORMED_OPTION;
      auth = true;
    } else if (option.type >= 0x80) {
      return DecapStatus.UNKNOWN_CRITICAL;
    }
  }
  return DecapStatus.DATA;
}

function expectAgreement(buf: Uint8Array): void {
  let status = -1;
  expect(() => {
    status = decapsulate(buf, 0, buf.length, view, open);
  }).not.toThrow();
  let value: GeneveHeader;
  try {
    value = geneveHeader.decode(buf);
  } catch (error) {
    expect(error).toBeInstanceOf(GeneveDecodeError);
    const e = error as GeneveDecodeError;
    expect(status).toBe(STRUCTURAL[e.code]);
    expect(view.failOffset).toBe(e.offset);
    return;
  }
  expect(Object.values(STRUCTURAL)).not.toContain(status);
  expect(view).toMatchObject({ oam: value.oam, protocolType: value.protocolType, vni: value.vni });
  expect(view.payloadOffset).toBe(geneveHeader.encodingLength(value));
  expect(view.criticalFlag).toBe((buf[1]! & 0x40) !== 0);
  const fromOptions = expectedOptionStatus(value);
  if (fromOptions !== DecapStatus.DATA) {
    expect(status).toBe(fromOptions);
    return;
  }
  expect(view.criticalOptions).toBe(value.options.filter((o) => o.type >= 0x80).length);
  const payload = buf.subarray(view.payloadOffset);
  let expected: number;
  if (value.oam) expected = value.protocolType === 0x88b5 ? DecapStatus.CONTROL : DecapStatus.BAD_PROTOCOL;
  else if (value.protocolType !== 0x0800) expected = DecapStatus.BAD_PROTOCOL;
  else expected = payload.length >= 20 && payload[0]! >> 4 === 4 ? DecapStatus.DATA : DecapStatus.BAD_INNER;
  expect(status).toBe(expected);
}
