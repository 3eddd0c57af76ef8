// The NAT key as the SQLite schema stores it (schema.ts, version 2): protocol, NAT address and NAT
// port packed into one integer, protocol * 2^48 + natAddress * 2^16 + natPort, below 2^53 so a JS
// number holds it exactly. SQL unpacks it with shifts (NAT_KEY_COLUMNS).

const TWO_16 = 0x1_0000;
const TWO_48 = 0x1_0000_0000_0000;

/** The packed key; the caller passes fields in range (a protocol byte, a u32 address, a u16 port). */
export function natKey(protocol: number, natAddress: number, natPort: number): number {
  return protocol * TWO_48 + natAddress * TWO_16 + natPort;
}

/** Whether the fields are in range, so that natKey of them is a key no other fields share. */
export function natKeyFields(protocol: number, natAddress: number, natPort: number): boolean {
  return isIntegerIn(protocol, 0xff) && isIntegerIn(natAddress, 0xffff_ffff) && isIntegerIn(natPort, 0xffff);
}

/** protocol, nat_address, nat_port of the row, for a SELECT list. */
export const NAT_KEY_COLUMNS = 'nat_key >> 48, (nat_key >> 16) & 4294967295, nat_key & 65535';

function isIntegerIn(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= max;
}
