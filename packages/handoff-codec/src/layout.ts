// Field tables of every structure (§5), consulted only when something is wrong: to find the field
// a truncated datagram was cut in (the error offset) and to name the structure in error messages.
// Each table lists the starts of the fields in wire order; a field runs to the next start.
import { MESSAGE_TYPE_NAMES, MessageType, Size } from './constants.js';

export const HEADER_FIELDS = [0, 1, 2, 4, 6, 8, 16, 24] as const;
export const ENTRY_FIELDS = [0, 1, 2, 4, 8, 24, 26, 28, 32] as const;
export const HELLO_FIELDS = [0, 4, 6] as const;
export const HELLO_ACK_FIELDS = [0, 2, 4, 6] as const;
export const BATCH_PREFIX_FIELDS = [0, 2] as const;
export const ACK_PREFIX_FIELDS = [0, 4, 5] as const;
export const ACK_BLOCK_FIELDS = [0, 4] as const;
export const QUERY_FIELDS = [0, 1, 2, 4, 8, 12, 14] as const;
export const ANSWER_PREFIX_FIELDS = [0, 1] as const;
export const CLIENT_QUERY_FIELDS = [0, 1, 2, 4, 8, 12, 28, 30] as const;

/** Start of the field holding octet `at` of a structure laid out by `starts`. */
export function fieldStart(starts: readonly number[], at: number): number {
  let start = 0;
  for (const candidate of starts) {
    if (candidate > at) break;
    start = candidate;
  }
  return start;
}

/** Start of the field holding octet `at` of repeated items of `size` octets. */
export function itemFieldStart(size: number, starts: readonly number[], at: number): number {
  const itemStart = at - (at % size);
  return itemStart + fieldStart(starts, at - itemStart);
}

/**
 * Start of the field holding octet `at` of a datagram of a known type whose header, Length and
 * counts are consistent; offsets are relative to the datagram. Padding is one field.
 */
export function datagramFieldStart(type: number, length: number, tagged: boolean, at: number): number {
  if (at < Size.HEADER) return fieldStart(HEADER_FIELDS, at);
  if (tagged && at >= length - Size.TAG) return length - Size.TAG;
  const body = at - Size.HEADER;
  let start: number;
  switch (type) {
    case MessageType.HELLO:
      start = body < Size.HELLO_BODY ? fieldStart(HELLO_FIELDS, body) : Size.HELLO_BODY;
      break;
    case MessageType.HELLO_ACK:
      start = fieldStart(HELLO_ACK_FIELDS, body);
      break;
    case MessageType.QUERY:
      start = body < Size.QUERY_FIELDS ? fieldStart(QUERY_FIELDS, body) : Size.QUERY_FIELDS;
      break;
    case MessageType.CLIENT_QUERY:
      start = body < Size.CLIENT_QUERY_FIELDS ? fieldStart(CLIENT_QUERY_FIELDS, body) : Size.CLIENT_QUERY_FIELDS;
      break;
    case MessageType.ANSWER:
      start = body < Size.ANSWER_PREFIX ? fieldStart(ANSWER_PREFIX_FIELDS, body) : Size.ANSWER_PREFIX + fieldStart(ENTRY_FIELDS, body - Size.ANSWER_PREFIX);
      break;
    case MessageType.ACK:
      start =
        body < Size.ACK_PREFIX
          ? fieldStart(ACK_PREFIX_FIELDS, body)
          : Size.ACK_PREFIX + itemFieldStart(Size.ACK_BLOCK, ACK_BLOCK_FIELDS, body - Size.ACK_PREFIX);
      break;
    default:
      start =
        body < Size.BATCH_PREFIX
          ? fieldStart(BATCH_PREFIX_FIELDS, body)
          : Size.BATCH_PREFIX + itemFieldStart(Size.ENTRY, ENTRY_FIELDS, body - Size.BATCH_PREFIX);
  }
  return Size.HEADER + start;
}

/** Names the structure holding octet `at` of a datagram, as datagramFieldStart() lays it out. */
export function datagramStructureAt(type: number, length: number, tagged: boolean, at: number): string {
  if (at < Size.HEADER) return 'header';
  if (tagged && at >= length - Size.TAG) return 'tag';
  const name = MESSAGE_TYPE_NAMES[type as MessageType];
  const body = at - Size.HEADER;
  switch (type) {
    case MessageType.HELLO:
      return body < Size.HELLO_BODY ? `${name} body` : `${name} padding`;
    case MessageType.QUERY:
      return body < Size.QUERY_FIELDS ? `${name} body` : `${name} padding`;
    case MessageType.CLIENT_QUERY:
      return body < Size.CLIENT_QUERY_FIELDS ? `${name} body` : `${name} padding`;
    case MessageType.HELLO_ACK:
      return `${name} body`;
    case MessageType.ANSWER:
      return body < Size.ANSWER_PREFIX ? `${name} body` : `${name} entry`;
    case MessageType.ACK:
      return body < Size.ACK_PREFIX ? `${name} body` : `${name} block ${Math.floor((body - Size.ACK_PREFIX) / Size.ACK_BLOCK)}`;
    default:
      return body < Size.BATCH_PREFIX ? `${name} body` : `${name} entry ${Math.floor((body - Size.BATCH_PREFIX) / Size.ENTRY)}`;
  }
}
