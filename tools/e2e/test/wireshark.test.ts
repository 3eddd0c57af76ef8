// contrib/wireshark/nat64-handoff.lua read by Debian's tshark on a capture of real traffic: every
// handoff v1 message (tagged and not), Geneve control and data packets with our options, and one
// malformed datagram, made by real sockets in a namespace of the test's own:
//
//   +------------------------------ namespace "wire" (lo) ------------------------------+
//   |  wireshark-traffic.mjs as gateways 192.0.2.7 and 192.0.2.9                           |
//   |     --UDP 62863--> nat64-receiver on 198.51.100.10 (idle timeout 1s: RELEASE)         |
//   |     --UDP 62863--> nat64-receiver on 198.51.100.11 (with a key: tagged)              |
//   |     --UDP 6081---> 198.51.100.10 (Geneve, nobody listening)                          |
//   |  tshark -i any, written to a file, dissected afterwards with the Lua dissector       |
//   +-------------------------------------------------------------------------------------+
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, labUnavailableReason, waitForLine, type Namespace } from '@nat64/netlab';
import { REPO } from './support/gateway-lab.js';
import { RECEIVER_MAIN, capture } from './support/handoff-lab.js';

const DISSECTOR = join(REPO, 'contrib/wireshark/nat64-handoff.lua');
const TRAFFIC = join(REPO, 'tools/e2e/test/support/wireshark-traffic.mjs');
const KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

const unavailable = labUnavailableReason(['tshark']);
if (unavailable) console.log(`Wireshark dissector tests skipped: ${unavailable}`);

interface Sent {
  epoch: string;
  cookie: string;
  taggedEpoch: string;
  found: number;
  notFound: number;
  released: number;
  vni: number;
}

/** One row per frame: the fields asked for, multiple values joined by ",". */
type Row = Record<string, string>;

const FIELDS = [
  'ip.src',
  'ip.dst',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
  'nat64handoff.version',
  'nat64handoff.type',
  'nat64handoff.length',
  'nat64handoff.flags.auth',
  'nat64handoff.epoch',
  'nat64handoff.cookie',
  'nat64handoff.sequence',
  'nat64handoff.nat_address',
  'nat64handoff.capabilities.handoff_v1',
  'nat64handoff.receiver_flags.authoritative',
  'nat64handoff.window',
  'nat64handoff.count',
  'nat64handoff.entry.protocol',
  'nat64handoff.entry.reason',
  'nat64handoff.entry.nat_port',
  'nat64handoff.entry.nat_address',
  'nat64handoff.entry.client_address',
  'nat64handoff.entry.client_port',
  'nat64handoff.entry.server_address',
  'nat64handoff.entry.server_port',
  'nat64handoff.entry.time',
  'nat64handoff.cumulative',
  'nat64handoff.block_count',
  'nat64handoff.query.protocol',
  'nat64handoff.query.nat_port',
  'nat64handoff.query.server_address',
  'nat64handoff.query.server_port',
  'nat64handoff.status',
  'nat64handoff.tag',
  'geneve.flags.oam',
  'geneve.vni',
  'nat64geneve.option.class',
  'nat64geneve.option.type',
  'nat64geneve.mapping.event',
  'nat64geneve.mapping.protocol',
  'nat64geneve.mapping.nat_port',
  'nat64geneve.mapping.client_address',
  'nat64geneve.mapping.client_port',
  'nat64geneve.mapping.creation_time',
  'nat64geneve.auth.key_id',
  'nat64geneve.auth.tag',
];

describe.skipIf(unavailable)('the Wireshark dissector', () => {
  let lab: Lab;
  let wire: Namespace;
  let dir: string;
  let file: string;
  let sent: Sent;

  let frames: Row[];

  /** The frames matching `where`, with only the fields asked for. */
  function dissect(fields: string[], where: (frame: Row) => boolean): Row[] {
    return frames.filter(where).map((frame) => Object.fromEntries(fields.map((field) => [field, frame[field] ?? ''])));
  }
  const has = (field: string, value?: string) => (frame: Row) => (value === undefined ? frame[field] !== '' : frame[field] === value);
  const all =
    (...tests: Array<(frame: Row) => boolean>) =>
    (frame: Row) =>
      tests.every((test) => test(frame));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nat64-wireshark-'));
    lab = new Lab('ws');
    wire = lab.addNamespace('wire');
    for (const address of ['192.0.2.7/32', '192.0.2.9/32', '198.51.100.10/32', '198.51.100.11/32']) wire.ip('address', 'add', address, 'dev', 'lo');
    writeFileSync(join(dir, 'key'), `${KEY}\n`);
    const receivers = [
      ['198.51.100.10', 'plain', ['--idle-timeout', '1s']],
      ['198.51.100.11', 'keyed', ['--key-file', join(dir, 'key')]],
    ] as const;
    for (const [address, name, extra] of receivers) {
      const receiver = wire.spawn('node', [
        RECEIVER_MAIN,
        'run',
        '--listen',
        address,
        '--transport',
        'handoff',
        '--db',
        join(dir, `${name}.db`),
        '--conn-log',
        join(dir, `${name}.log`),
        '--control',
        join(dir, `${name}.sock`),
        ...extra,
      ]);
      await waitForLine(receiver.stderr!, /receiver started/, 20_000);
    }
    const tap = await capture(wire, dir, 'wire', 'udp');
    const traffic = await wire.run('node', [TRAFFIC, KEY], { timeoutMs: 60_000 });
    expect(traffic.code, traffic.stderr).toBe(0);
    sent = JSON.parse(traffic.stdout) as Sent;
    // Let the capture read what the kernel already holds before it stops.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await tap.stop();
    file = join(dir, 'wire.pcapng');
    // One pass of tshark with the dissector over the whole capture, every field the tests look at.
    const args = ['-n', '-r', file, '-X', `lua_script:${DISSECTOR}`, '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=,'];
    const result = await wire.run('tshark', [...args, ...FIELDS.flatMap((field) => ['-e', field])], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    frames = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => Object.fromEntries(line.split('\t').map((value, index) => [FIELDS[index]!, value])));
  }, 120_000);
  afterAll(() => {
    lab?.destroy();
    if (dir && process.env['NAT64_KEEP'] === undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('decodes every message type of handoff v1 with its header', async () => {
    const rows = dissect(
      [
        'udp.srcport',
        'udp.dstport',
        'nat64handoff.type',
        'nat64handoff.epoch',
        'nat64handoff.cookie',
        'nat64handoff.sequence',
        'nat64handoff.length',
        'udp.length',
      ],
      all(
        has('nat64handoff.type'),
        (frame) => frame['udp.srcport'] === '62863' || frame['udp.dstport'] === '62863',
        (frame) => frame['udp.srcport'] !== '40000',
      ),
    );
    const types = new Set(rows.map((row) => Number(row['nat64handoff.type'])));
    expect([...types].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const row of rows) expect(Number(row['nat64handoff.length'])).toBe(Number(row['udp.length']) - 8);
    const plain = rows.filter((row) => row['nat64handoff.epoch'] === `0x${sent.epoch}`);
    expect(plain.length).toBeGreaterThanOrEqual(12);
    // After the first HELLO (cookie 0), every message of the epoch carries the receiver's cookie.
    expect(plain[0]!['nat64handoff.cookie']).toBe('0x0000000000000000');
    expect(plain.slice(1).every((row) => row['nat64handoff.cookie'] === `0x${sent.cookie}`)).toBe(true);
    const created = plain.find((row) => row['nat64handoff.type'] === '3')!;
    expect(created['nat64handoff.sequence']).toBe('1');
  });

  it('decodes the bodies: HELLO, HELLO-ACK, entries, ACK, QUERY, ANSWER', async () => {
    const hello = dissect(
      ['nat64handoff.nat_address', 'nat64handoff.capabilities.handoff_v1'],
      all(has('nat64handoff.type', '1'), has('ip.dst', '198.51.100.10'), has('udp.dstport', '62863')),
    );
    expect(hello[0]).toEqual({ 'nat64handoff.nat_address': '192.0.2.7', 'nat64handoff.capabilities.handoff_v1': '1' });
    const helloAck = dissect(
      ['nat64handoff.receiver_flags.authoritative', 'nat64handoff.window'],
      all(has('nat64handoff.type', '2'), has('udp.srcport', '62863')),
    );
    expect(helloAck[0]!['nat64handoff.receiver_flags.authoritative']).toBe('1');
    expect(Number(helloAck[0]!['nat64handoff.window'])).toBeGreaterThan(0);
    const created = dissect(
      [
        'nat64handoff.count',
        'nat64handoff.entry.protocol',
        'nat64handoff.entry.nat_port',
        'nat64handoff.entry.nat_address',
        'nat64handoff.entry.client_address',
        'nat64handoff.entry.client_port',
        'nat64handoff.entry.server_address',
        'nat64handoff.entry.server_port',
        'nat64handoff.entry.time',
      ],
      all(has('nat64handoff.type', '3'), has('ip.dst', '198.51.100.10'), has('udp.srcport', '62863')),
    );
    expect(created[0]).toEqual({
      'nat64handoff.count': '2',
      'nat64handoff.entry.protocol': '6,6',
      'nat64handoff.entry.nat_port': '3719,12191',
      'nat64handoff.entry.nat_address': '192.0.2.7,192.0.2.7',
      'nat64handoff.entry.client_address': '2001:db8::17,2001:db8::3',
      'nat64handoff.entry.client_port': '53186,53716',
      'nat64handoff.entry.server_address': '198.51.100.10,198.51.100.10',
      'nat64handoff.entry.server_port': '443,443',
      'nat64handoff.entry.time': '1552903588491727,1552903588491727',
    });
    const deleted = dissect(['nat64handoff.entry.reason', 'nat64handoff.entry.nat_port'], has('nat64handoff.type', '4'));
    expect(deleted[0]).toEqual({ 'nat64handoff.entry.reason': '2', 'nat64handoff.entry.nat_port': '3719' });
    const acks = dissect(['nat64handoff.cumulative', 'nat64handoff.block_count', 'ip.src'], all(has('nat64handoff.type', '5'), has('ip.src', '198.51.100.10')));
    expect(acks.map((row) => row['nat64handoff.cumulative'])).toEqual(expect.arrayContaining(['1', '2']));
    const queries = dissect(
      ['nat64handoff.query.protocol', 'nat64handoff.query.nat_port', 'nat64handoff.query.server_address', 'nat64handoff.query.server_port'],
      has('nat64handoff.type', '6'),
    );
    expect(queries.map((row) => row['nat64handoff.query.nat_port'])).toEqual(['12191', '9']);
    expect(queries[0]).toMatchObject({
      'nat64handoff.query.protocol': '6',
      'nat64handoff.query.server_address': '198.51.100.10',
      'nat64handoff.query.server_port': '443',
    });
    const answers = dissect(['nat64handoff.status', 'nat64handoff.entry.client_address'], has('nat64handoff.type', '7'));
    expect(answers).toEqual([
      { 'nat64handoff.status': String(sent.found), 'nat64handoff.entry.client_address': '2001:db8::3' },
      { 'nat64handoff.status': String(sent.notFound), 'nat64handoff.entry.client_address': '' },
    ]);
    const releases = dissect(['nat64handoff.entry.nat_port', 'nat64handoff.entry.client_address'], has('nat64handoff.type', '8'));
    expect(releases[0]).toEqual({ 'nat64handoff.entry.nat_port': '12191', 'nat64handoff.entry.client_address': '2001:db8::3' });
    // The gateway acknowledges the RELEASE.
    expect(dissect(['nat64handoff.cumulative'], all(has('nat64handoff.type', '5'), has('ip.src', '192.0.2.7')))).toEqual([{ 'nat64handoff.cumulative': '1' }]);
  });

  it('decodes the tag of authenticated datagrams, both ways', async () => {
    const rows = dissect(['ip.src', 'nat64handoff.flags.auth', 'nat64handoff.tag'], has('nat64handoff.epoch', `0x${sent.taggedEpoch}`));
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const row of rows) {
      expect(row['nat64handoff.flags.auth']).toBe('1');
      expect(row['nat64handoff.tag']).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(new Set(rows.map((row) => row['ip.src']))).toEqual(new Set(['192.0.2.9', '198.51.100.11']));
  });

  it('decodes our Geneve options and the handoff datagram a control packet carries', async () => {
    const rows = dissect(
      [
        'geneve.flags.oam',
        'geneve.vni',
        'nat64geneve.option.class',
        'nat64geneve.option.type',
        'nat64geneve.mapping.event',
        'nat64geneve.mapping.protocol',
        'nat64geneve.mapping.nat_port',
        'nat64geneve.mapping.client_address',
        'nat64geneve.mapping.client_port',
        'nat64geneve.mapping.creation_time',
        'nat64geneve.auth.key_id',
        'nat64geneve.auth.tag',
        'nat64handoff.type',
        'nat64handoff.nat_address',
        'ip.src',
      ],
      (frame) => frame['udp.dstport']!.split(',')[0] === '6081',
    );
    expect(rows).toHaveLength(3);
    // Control packet, VNI 0, no options, a HELLO inside.
    expect(rows[0]).toMatchObject({
      'geneve.flags.oam': '1',
      'geneve.vni': '0x000000',
      'nat64geneve.option.class': '',
      'nat64handoff.type': '1',
      'nat64handoff.nat_address': '192.0.2.7',
    });
    // Data packet: mapping then authentication option, inner IPv4 from the NAT address.
    expect(rows[1]).toMatchObject({
      'geneve.flags.oam': '0',
      'geneve.vni': `0x${sent.vni.toString(16).padStart(6, '0')}`,
      'nat64geneve.option.class': '0xff64,0xff64',
      'nat64geneve.option.type': '0x01,0x02',
      'nat64geneve.mapping.event': '1',
      'nat64geneve.mapping.protocol': '17',
      'nat64geneve.mapping.nat_port': '28965',
      'nat64geneve.mapping.client_address': '2001:db8::5',
      'nat64geneve.mapping.client_port': '41660',
      'nat64geneve.mapping.creation_time': '1552909266362189',
      'nat64geneve.auth.key_id': '7',
      'nat64handoff.type': '',
      'ip.src': '192.0.2.7,192.0.2.7',
    });
    expect(rows[1]!['nat64geneve.auth.tag']).toMatch(/^[0-9a-f]{32}$/);
    // Control packet without payload: a Deleted mapping.
    expect(rows[2]).toMatchObject({ 'geneve.flags.oam': '1', 'nat64geneve.mapping.event': '3', 'nat64handoff.type': '' });
  });

  it('reports no malformed packet but the one malformed datagram, and names its problem', async () => {
    const text = await wire.run('tshark', ['-n', '-r', file, '-X', `lua_script:${DISSECTOR}`, '-V']);
    expect(text.code).toBe(0);
    const frames = text.stdout.split(/\n(?=Frame \d+:)/);
    const malformed = frames.filter((frame) => /Malformed/i.test(frame));
    expect(malformed).toHaveLength(1);
    expect(malformed[0]).toContain('Src Port: 40000');
    expect(malformed[0]).toContain('Malformed NAT64 handoff datagram: truncated');
    expect(text.stdout).not.toMatch(/Lua Error|Expert Info \(Warning/);
  });
});
