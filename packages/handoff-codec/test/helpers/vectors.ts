// Golden datagrams of every message type, written out from the field diagrams of
// docs/protocol/handoff-v1.md §5 (the same bytes as its Appendix A), with the model value each one
// decodes to and its field table: [start, size, structure named in errors], in wire order.
// The tag of the tagged HELLO was computed outside this code base, with Python's hmac module.
import { AnswerStatus, Capability, DeleteReason, MessageType, Protocol, ReceiverFlag } from '@nat64/handoff-codec';
import type { HandoffEntry, HandoffMessage } from '@nat64/handoff-codec';
import { hex } from './hex.js';

export type Field = readonly [start: number, size: number, structure: string];

export interface Vector {
  name: string;
  bytes: Uint8Array;
  value: HandoffMessage;
  fields: readonly Field[];
}

const EPOCH = 0x0123456789abcdefn;
const COOKIE = 0x8899aabbccddeeffn;
const A = 0xc0000201; // 192.0.2.1, the gateway's NAT address
const SERVER = 0xc633640a; // 198.51.100.10
const CREATED_AT = 1_552_903_588_000_000; // 2019-03-18T10:06:28Z in microseconds

function client(last: number): Uint8Array {
  const address = new Uint8Array(16);
  address.set([0x20, 0x01, 0x0d, 0xb8]); // 2001:db8::last
  address[15] = last;
  return address;
}

const HEADER_FIELDS: readonly Field[] = [
  [0, 1, 'header'], // version
  [1, 1, 'header'], // type
  [2, 2, 'header'], // length
  [4, 2, 'header'], // flags
  [6, 2, 'header'], // reserved
  [8, 8, 'header'], // epoch
  [16, 8, 'header'], // cookie
  [24, 4, 'header'], // sequence
];

function entryFields(base: number, structure: string): Field[] {
  return [
    [base + 0, 1, structure], // protocol
    [base + 1, 1, structure], // reason
    [base + 2, 2, structure], // NAT port
    [base + 4, 4, structure], // NAT address
    [base + 8, 16, structure], // client address
    [base + 24, 2, structure], // client port
    [base + 26, 2, structure], // server port
    [base + 28, 4, structure], // server address
    [base + 32, 8, structure], // time
  ];
}

const tcpEntry: HandoffEntry = {
  protocol: Protocol.TCP,
  reason: 0,
  natAddress: A,
  natPort: 40000,
  clientAddress: client(1),
  clientPort: 51000,
  serverAddress: SERVER,
  serverPort: 443,
  time: CREATED_AT,
};

const icmpEntry: HandoffEntry = {
  protocol: Protocol.ICMP,
  reason: 0,
  natAddress: A,
  natPort: 8001,
  clientAddress: client(2),
  clientPort: 1234,
  serverAddress: 0xc633640b,
  serverPort: 0,
  time: 1_552_903_588_123_456,
};

const udpEntry: HandoffEntry = {
  protocol: Protocol.UDP,
  reason: 0,
  natAddress: A,
  natPort: 40001,
  clientAddress: client(3),
  clientPort: 54321,
  serverAddress: SERVER,
  serverPort: 53,
  time: 1_552_903_650_250_000,
};

export const hello: Vector = {
  name: 'HELLO',
  bytes: hex(`
    01 01 0024          # version 1, type 1 HELLO, length 36
    0000 0000           # flags, reserved
    0123456789abcdef    # epoch
    0000000000000000    # cookie 0: asks for one
    5eed1e55            # sequence: request identifier
    c0000201            # NAT address 192.0.2.1
    0003                # capabilities HANDOFF_V1 | GENEVE
    0000                # reserved
  `),
  value: {
    type: MessageType.HELLO,
    version: 1,
    flags: 0,
    epoch: EPOCH,
    cookie: 0n,
    sequence: 0x5eed1e55,
    natAddress: A,
    capabilities: Capability.HANDOFF_V1 | Capability.GENEVE,
  },
  fields: [...HEADER_FIELDS, [28, 4, 'HELLO body'], [32, 2, 'HELLO body'], [34, 2, 'HELLO body']],
};

export const helloAck: Vector = {
  name: 'HELLO-ACK',
  bytes: hex(`
    01 02 0024          # version 1, type 2 HELLO-ACK, length 36
    0000 0000           # flags, reserved
    0123456789abcdef    # epoch, echoed
    8899aabbccddeeff    # cookie the receiver gives (A, epoch)
    5eed1e55            # sequence: the HELLO's request identifier, echoed
    8000                # receiver flags: AUTHORITATIVE
    0001                # capabilities HANDOFF_V1
    0100                # window 256
    0000                # reserved
  `),
  value: {
    type: MessageType.HELLO_ACK,
    version: 1,
    flags: 0,
    epoch: EPOCH,
    cookie: COOKIE,
    sequence: 0x5eed1e55,
    receiverFlags: ReceiverFlag.AUTHORITATIVE,
    capabilities: Capability.HANDOFF_V1,
    window: 256,
  },
  fields: [...HEADER_FIELDS, [28, 2, 'HELLO-ACK body'], [30, 2, 'HELLO-ACK body'], [32, 2, 'HELLO-ACK body'], [34, 2, 'HELLO-ACK body']],
};

export const created: Vector = {
  name: 'CREATED',
  bytes: hex(`
    01 03 0070          # version 1, type 3 CREATED, length 112
    0000 0000           # flags, reserved
    0123456789abcdef    # epoch
    8899aabbccddeeff    # cookie
    00000001            # sequence 1
    0002 0000           # count 2, reserved
    # entry 0
    06 00 9c40          # protocol 6 TCP, reason 0, NAT port 40000
    c0000201            # NAT address 192.0.2.1
    20010db8000000000000000000000001  # client 2001:db8::1
    c738 01bb           # client port 51000, server port 443
    c633640a            # server 198.51.100.10
    0005845b8abbb100    # time 1552903588000000 us = 2019-03-18T10:06:28Z
    # entry 1
    01 00 1f41          # protocol 1 ICMP, reason 0, NAT identifier 8001
    c0000201            # NAT address 192.0.2.1
    20010db8000000000000000000000002  # client 2001:db8::2
    04d2 0000           # client identifier 1234, server port 0 (ICMP)
    c633640b            # server 198.51.100.11
    0005845b8abd9340    # time 1552903588123456 us = 2019-03-18T10:06:28.123456Z
  `),
  value: {
    type: MessageType.CREATED,
    version: 1,
    flags: 0,
    epoch: EPOCH,
    cookie: COOKIE,
    sequence: 1,
    entries: [tcpEntry, icmpEntry],
  },
  fields: [...HEADER_FIELDS, [28, 2, 'CREATED body'], [30, 2, 'CREATED body'], ...entryFields(32, 'CREATED entry 0'), ...entryFields(72, 'CREATED entry 1')],
};

export const deleted: Vector = {
  name: 'DELETED',
  bytes: hex(`
    01 04 0048          # version 1, type 4 DELETED, length 72
    0000 0000           # flags, reserved
    0123456789abcdef    # epoch
    8899aabbccddeeff    # cookie
    00000002            # sequence 2
    0001 0000           # count 1, reserved
    06 02 9c40          # protocol 6 TCP, reason 2 TCP closed, NAT port 40000
    c0000201            # NAT address 192.0.2.1
    20010db8000000000000000000000001  # client 2001:db8::1
    c738 01bb           # client port 51000, server port 443
    c633640a            # server 198.51.100.10
    0005845b8abbb100    # creation time of the entry deleted (its incarnation)
  `),
  value: {
    type: MessageType.DELETED,
    version: 1,
    flags: 0,
    epoch: EPOCH,
    cookie: COOKIE,
    sequence: 2,
    entries: [{ ...tcpEntry, reason: DeleteReason.TCP_CLOSED }],
  },
  fields: [...HEADER_FIELDS, [28, 2, 'DELETED body'], [30, 2, 'DELETED body'], ...entryFields(32, 'DELETED entry 0')],
};

export const ack: Vector = {
  name: 'ACK',
  bytes: hex(`
    01 05 0034          # version 1, type 5 ACK, length 52
    0000 0000           # flags, reserved
    0123456789abcdef    # epoch
    8899aabbccddeeff    # cookie
    00000000            # sequence 0
    00000002            # cumulative: 1 and 2 received
    02 000000           # block count 2, reserved
    00000004 00000005   # block 0: 4 to 5
    00000007 00000007   # block 1: 7 to 7 (3 and 6 missing)
  `),
  value: {
    type: MessageType.ACK,
    version: 1,
    flags: 0,
    epoch: EPOCH,
    cookie: COOKIE,
    sequence: 0,
    cumulative: 2,
    blocks: [
      { start: 4, end: 5 },
      { start: 7, end: 7 },
    ],
  },
  fields: [
    ...HEADER_FIELDS,
    [28, 4, 'ACK body'],
    [32, 1, 'ACK body'],
    [33, 3, 'ACK body'],
    [36, 4, 'ACK block 0'],
    [40, 4, 'ACK block 0'],
    [44, 4, 'ACK block 1'],
    [48, 4, 'ACK block 1'],
  ],
};

export const query: Vector = {
  name: 'QUERY',
  bytes: hex(`
    01 06 0048          # version 1, type 6 QUERY, length 72 (the size of an ANSWER)
    0000 0000           # flags, reserved
    0123456789abcdef    # epoch
    8899aabbccddeeff    # cookie
    0000beef            # sequence: request identifier
    11 00 9c41          # protocol 17 UDP, reserved, NAT port 40001
    c0000201            # NAT address 192.0.2.1
    c633640a            # server 198.51.100.10
    0035 0000           # server port 53, reserved
    00000000000000000000000000000000000000000000000000000000  # padding, 28 octets
  `),
  value: {
    type: MessageType.QUERY,
    version: 1,
    flags: 0,
    epoch: EPOCH,
    cookie: COOKIE,
    sequence: 0xbeef,
    protocol: Protocol.UDP,
    natPort: 40001,
    natAddress: A,
    serverAddress: SERVER,
    serverPort: 53,
  },
  fields: [
    ...HEADER_FIELDS,
    [28, 1, 'QUERY body'],
    [29, 1, 'QUERY body'],
    [30, 2, 'QUERY body'],
    [32, 4, 'QUERY body'],
    [36, 4, 'QUERY body'],
    [40, 2, 'QUERY body'],
    [42, 2, 'QUERY body'],
    [44, 28, 'QUERY padding'],
  ],
};

export const answerFound: Vector = {
  name: 'ANSWER (found)',
  bytes: hex(`
    01 07 0048          # version 1, type 7 ANSWER, length 72
    0000 0000           # flags, reserved
    0123456789abcdef    # epoch
    8899aabbccddeeff    # cookie
    0000beef            # sequence: the QUERY's request identifier, echoed
    00 000000           # status 0 found, reserved
    11 00 9c41          # protocol 17 UDP, reason 0, NAT port 40001
    c0000201            # NAT address 192.0.2.1
    20010db8000000000000000000000003  # client 2001:db8::3
    d431 0035           # client port 54321, server port 53
    c633640a            # server 198.51.100.10
    0005845b8e718d10    # time 1552903650250000 us = 2019-03-18T10:07:30.25Z
  `),
  value: {
    type: MessageType.ANSWER,
    version: 1,
    flags: 0,
    epoch: EPOCH,
    cookie: COOKIE,
    sequence: 0xbeef,
    status: AnswerStatus.FOUND,
    entry: udpEntry,
  },
  fields: [...HEADER_FIELDS, [28, 1, 'ANSWER body'], [29, 3, 'ANSWER body'], ...entryFields(32, 'ANSWER entry')],
};

export const answerNotFound: Vector = {
  name: 'ANSWER (not found)',
  bytes: hex(`
    01 07 0048          # version 1, type 7 ANSWER, length 72
    0000 0000           # flags, reserved
    0123456789abcdef    # epoch
    8899aabbccddeeff    # cookie
    0000beef            # sequence, echoed
    01 000000           # status 1 not found, reserved
    00000000000000000000000000000000000000000000000000000000000000000000000000000000  # entry, 40 zero octets
  `),
  value: {
    type: MessageType.ANSWER,
    version: 1,
    flags: 0,
    epoch: EPOCH,
    cookie: COOKIE,
    sequence: 0xbeef,
    status: AnswerStatus.NOT_FOUND,
    entry: null,
  },
  fields: [...HEADER_FIELDS, [28, 1, 'ANSWER body'], [29, 3, 'ANSWER body'], ...entryFields(32, 'ANSWER entry')],
};

export const release: Vector = {
  name: 'RELEASE',
  bytes: hex(`
    01 08 0048          # version 1, type 8 RELEASE, length 72
    0000 0000           # flags, reserved
    0123456789abcdef    # epoch of the gateway, echoed
    8899aabbccddeeff    # cookie
    00000001            # sequence 1 of the receiver's own reliable sequence
    0001 0000           # count 1, reserved
    11 00 9c41          # protocol 17 UDP, reason 0, NAT port 40001
    c0000201            # NAT address 192.0.2.1
    20010db8000000000000000000000003  # client 2001:db8::3
    d431 0035           # client port 54321, server port 53
    c633640a            # server 198.51.100.10
    0005845b8e718d10    # creation time of the entry released
  `),
  value: {
    type: MessageType.RELEASE,
    version: 1,
    flags: 0,
    epoch: EPOCH,
    cookie: COOKIE,
    sequence: 1,
    entries: [udpEntry],
  },
  fields: [...HEADER_FIELDS, [28, 2, 'RELEASE body'], [30, 2, 'RELEASE body'], ...entryFields(32, 'RELEASE entry 0')],
};

export const clientQuery: Vector = {
  name: 'CLIENT-QUERY',
  bytes: hex(`
    01 09 0048          # version 1, type 9 CLIENT-QUERY, length 72 (the size of an ANSWER)
    0000 0000           # flags, reserved
    0123456789abcdef    # epoch
    8899aabbccddeeff    # cookie
    0000cafe            # sequence: request identifier
    11 00 d431          # protocol 17 UDP, reserved, client port 54321
    c0000201            # NAT address 192.0.2.1
    c633640a            # server 198.51.100.10
    20010db8000000000000000000000003  # client 2001:db8::3
    0035 0000           # server port 53, reserved
    000000000000000000000000  # padding, 12 octets
  `),
  value: {
    type: MessageType.CLIENT_QUERY,
    version: 1,
    flags: 0,
    epoch: EPOCH,
    cookie: COOKIE,
    sequence: 0xcafe,
    protocol: Protocol.UDP,
    clientPort: 54321,
    natAddress: A,
    serverAddress: SERVER,
    clientAddress: client(3),
    serverPort: 53,
  },
  fields: [
    ...HEADER_FIELDS,
    [28, 1, 'CLIENT-QUERY body'],
    [29, 1, 'CLIENT-QUERY body'],
    [30, 2, 'CLIENT-QUERY body'],
    [32, 4, 'CLIENT-QUERY body'],
    [36, 4, 'CLIENT-QUERY body'],
    [40, 16, 'CLIENT-QUERY body'],
    [56, 2, 'CLIENT-QUERY body'],
    [58, 2, 'CLIENT-QUERY body'],
    [60, 12, 'CLIENT-QUERY padding'],
  ],
};

/** Key of the tagged vector: octets 0x00 to 0x1f. */
export const TAG_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);

export const taggedHello: Vector = {
  name: 'HELLO (tagged)',
  bytes: hex(`
    01 01 0034          # version 1, type 1 HELLO, length 52 (36 + 16 tag)
    8000 0000           # flags A (tag present), reserved
    0123456789abcdef    # epoch
    0000000000000000    # cookie 0
    5eed1e55            # sequence: request identifier
    c0000201            # NAT address 192.0.2.1
    0003                # capabilities HANDOFF_V1 | GENEVE
    0000                # reserved
    2432ea6579484c4f5de4a8fe1d8dff44  # tag: HMAC-SHA-256(TAG_KEY, octets 0..35), first 16 octets
  `),
  value: {
    type: MessageType.HELLO,
    version: 1,
    flags: 0,
    epoch: EPOCH,
    cookie: 0n,
    sequence: 0x5eed1e55,
    natAddress: A,
    capabilities: Capability.HANDOFF_V1 | Capability.GENEVE,
    tag: hex('2432ea6579484c4f5de4a8fe1d8dff44'),
  },
  fields: [...HEADER_FIELDS, [28, 4, 'HELLO body'], [32, 2, 'HELLO body'], [34, 2, 'HELLO body'], [36, 16, 'tag']],
};

export const VECTORS: readonly Vector[] = [hello, helloAck, created, deleted, ack, query, answerFound, answerNotFound, release, clientQuery, taggedHello];
