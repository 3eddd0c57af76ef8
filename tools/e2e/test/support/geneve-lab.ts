// The Geneve end-to-end lab: the gateway topology of gateway-lab.ts with a second IPv4 host, so one
// gateway can reach one receiver over handoff messages and another over Geneve side by side:
//
//   client (IPv6 only)           gateway                                  server (IPv4 only)
//   2001:db8:1::2 ---veth--- 2001:db8:1::1                                 203.0.113.2: nat64-receiver,
//                             TUN "nat64" <- nat64-gateway    ---veth---   HTTP 8080, TCP servers, tshark
//                             prefix 2001:db8:64::/96        203.0.113.1
//                             pool4 198.51.100.1                           server2 (IPv4 only)
//                                                             ---veth---   192.0.2.2: nat64-receiver,
//                                                            192.0.2.1     HTTP 8080
//
// Documentation addresses only; everything lives in the lab's namespaces, removed on every path.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Namespace } from '@nat64/netlab';
import { ADDRESSES, GATEWAY_MAIN, createTopology, startGateway, type RunningGateway, type Topology } from './gateway-lab.js';
import { curlAndExpectLogged, gatewayHosts, startHttpServerIn, startReceiverIn, type HttpServer, type RunningReceiver } from './handoff-lab.js';

export const SECOND = {
  gatewayFour: '192.0.2.1',
  server: '192.0.2.2',
  /** server2 as the client reaches it, under the prefix. */
  serverSix: '2001:db8:64::c000:202',
} as const;

export interface GeneveTopology extends Topology {
  readonly server2: Namespace;
}

/** Four namespaces: client, gateway and two IPv4 hosts; the TUN routes come once the gateway runs. */
export function createGeneveTopology(tag: string): GeneveTopology {
  const t = createTopology(tag);
  try {
    const server2 = t.lab.addNamespace('sv2');
    t.lab.link(t.gateway, server2, { addresses: [[`${SECOND.gatewayFour}/24`], [`${SECOND.server}/24`]] });
    server2.ip('route', 'add', `${ADDRESSES.pool4}/32`, 'via', SECOND.gatewayFour);
    return { ...t, server2 };
  } catch (error) {
    t.lab.destroy();
    throw error;
  }
}

/** One dissected Geneve packet, as tshark's own Geneve dissector reads it. */
export interface DissectedGeneve {
  src: string;
  dst: string;
  dstPort: number;
  vni: number;
  protoType: number;
  oam: boolean;
  /** Option classes and types, in wire order. */
  optionClasses: number[];
  optionTypes: number[];
  /**
   * tshark's geneve.option.length, in bytes: the header's Opt Len (all options), then each option's
   * length including its 4-byte option header.
   */
  optionLengths: number[];
}

/** Reads `file` with tshark, port 6081 decoded as Geneve (`-d udp.port==6081,geneve`). */
export async function dissectGeneve(namespace: Namespace, file: string): Promise<DissectedGeneve[]> {
  const fields = [
    'ip.src',
    'ip.dst',
    'udp.dstport',
    'geneve.vni',
    'geneve.proto_type',
    'geneve.flags.oam',
    'geneve.option.class',
    'geneve.option.type',
    'geneve.option.length',
  ];
  const result = await namespace.run('tshark', [
    '-n',
    '-r',
    file,
    '-d',
    'udp.port==6081,geneve',
    '-Y',
    'geneve',
    '-T',
    'fields',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
    ...fields.flatMap((f) => ['-e', f]),
  ]);
  if (result.code !== 0) throw new Error(`tshark failed: ${result.stderr}`);
  const number = (text: string) => Number(text.startsWith('0x') ? parseInt(text, 16) : text);
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      // Encapsulated packets repeat ip.src/ip.dst for the inner header: the first occurrence is the outer one.
      const [src, dst, dstPort, vni, protoType, oam, classes, types, lengths] = line.split('\t');
      const list = (text: string | undefined) => (text === undefined || text === '' ? [] : text.split(',').map(number));
      return {
        src: src!.split(',')[0]!,
        dst: dst!.split(',')[0]!,
        dstPort: number(dstPort!.split(',')[0]!),
        vni: number(vni!),
        protoType: number(protoType!),
        oam: oam === 'True' || oam === '1',
        optionClasses: list(classes),
        optionTypes: list(types),
        optionLengths: list(lengths),
      };
    });
}

/**
 * The TCP packets inside the Geneve packets of `file` (bypass's Ethernet frames), as tshark fields:
 * [eth.type, ipv6.src, ipv6.dst, tcp.dstport] per packet.
 */
export async function dissectInnerTcp(namespace: Namespace, file: string): Promise<string[][]> {
  const fields = ['eth.type', 'ipv6.src', 'ipv6.dst', 'tcp.dstport'].flatMap((field) => ['-e', field]);
  const inner = await namespace.run('tshark', ['-n', '-r', file, '-d', 'udp.port==6081,geneve', '-Y', 'geneve && tcp', '-T', 'fields', ...fields]);
  return inner.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));
}

/**
 * The side-by-side lab: a handoff-message receiver on the server and a Geneve receiver on server2
 * (`receiverArgs` added to both), an HTTP server on each, and the gateway in `--transport auto`
 * started by startGateway (with `gatewayArgs`). stop() ends everything it started, on any path.
 */
export interface SideBySide {
  readonly t: GeneveTopology;
  readonly dir: string;
  /** The gateway's control socket. */
  readonly control: string;
  handoffReceiver: RunningReceiver;
  geneveReceiver: RunningReceiver;
  /** HTTP on the server, then on server2. */
  readonly servers: readonly HttpServer[];
  gateway: RunningGateway | undefined;
  startGateway(gatewayArgs?: string[]): Promise<RunningGateway>;
  /** The gateway's row for a host in `nat64-gateway hosts`. */
  hostRow(host: string): Promise<Record<string, string | number | null> | undefined>;
  stop(): Promise<void>;
}

export async function startSideBySide(tag: string, receiverArgs: string[] = []): Promise<SideBySide> {
  const t = createGeneveTopology(tag);
  const dir = mkdtempSync(join(tmpdir(), `n64-${tag}-`));
  const started: { stop(): unknown }[] = [];
  const lab: Partial<SideBySide> & { stop(): Promise<void> } = {
    stop: async () => {
      for (const one of [lab.gateway, lab.handoffReceiver, lab.geneveReceiver]) if (one !== undefined && one.child.exitCode === null) await one.stop();
      for (const one of started) one.stop();
      t.lab.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    mkdirSync(join(dir, 'one'));
    mkdirSync(join(dir, 'two'));
    const control = join(dir, 'gateway.sock');
    // Mode auto offers bypass too: its secret stays in the lab's directory.
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify({ statsInterval: '0s', handoff: { bypass: { secretFile: join(dir, 'bypass-secret') } } }));
    lab.handoffReceiver = await startReceiverIn(t.server, ADDRESSES.server, join(dir, 'one'), 'handoff', receiverArgs);
    lab.geneveReceiver = await startReceiverIn(t.server2, SECOND.server, join(dir, 'two'), 'geneve', receiverArgs);
    const servers = [await startHttpServerIn(t.server, ADDRESSES.server), await startHttpServerIn(t.server2, SECOND.server)];
    for (const server of servers) started.push({ stop: () => server.child.kill() });
    return Object.assign(lab, {
      t,
      dir,
      control,
      servers,
      gateway: undefined,
      startGateway: async (gatewayArgs: string[] = []) => {
        lab.gateway = await startGateway(t, [
          '--config',
          join(dir, 'gateway.json'),
          '--prefix',
          ADDRESSES.prefix,
          '--pool4',
          ADDRESSES.pool4,
          '--control',
          control,
          '--transport',
          'auto',
          ...gatewayArgs,
        ]);
        return lab.gateway;
      },
      hostRow: async (host: string) => (await gatewayHosts(GATEWAY_MAIN, control)).hosts.find((row) => row['host'] === host),
    }) as SideBySide;
  } catch (error) {
    await lab.stop();
    throw error;
  }
}

/** curls both hosts; each receiver logs Initialized, then Created with the real client under the NAT port its server saw. */
export async function expectBothLogTheirClients(lab: SideBySide): Promise<void> {
  await curlAndExpectLogged(lab.t, lab.servers[0]!, lab.handoffReceiver, ADDRESSES.serverSix);
  await curlAndExpectLogged(lab.t, lab.servers[1]!, lab.geneveReceiver, SECOND.serverSix);
}
