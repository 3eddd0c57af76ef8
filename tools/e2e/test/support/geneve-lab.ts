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

import { Lab, waitForLine, type Namespace } from '@nat64/netlab';
import { ADDRESSES, type Topology } from './gateway-lab.js';
import type { HttpServer } from './handoff-lab.js';

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
  const lab = new Lab(tag);
  try {
    const client = lab.addNamespace('cli');
    const gateway = lab.addNamespace('gw');
    const server = lab.addNamespace('srv');
    const server2 = lab.addNamespace('sv2');
    lab.link(client, gateway, { addresses: [[`${ADDRESSES.client}/64`], [`${ADDRESSES.gatewaySix}/64`]] });
    lab.link(gateway, server, { addresses: [[`${ADDRESSES.gatewayFour}/24`], [`${ADDRESSES.server}/24`]] });
    lab.link(gateway, server2, { addresses: [[`${SECOND.gatewayFour}/24`], [`${SECOND.server}/24`]] });
    client.ip('-6', 'route', 'add', ADDRESSES.prefix, 'via', ADDRESSES.gatewaySix);
    server.ip('route', 'add', `${ADDRESSES.pool4}/32`, 'via', ADDRESSES.gatewayFour);
    server2.ip('route', 'add', `${ADDRESSES.pool4}/32`, 'via', SECOND.gatewayFour);
    gateway.sysctl('net.ipv4.conf.all.forwarding', 1);
    gateway.sysctl('net.ipv6.conf.all.forwarding', 1);
    return { lab, client, gateway, server, server2 };
  } catch (error) {
    lab.destroy();
    throw error;
  }
}

/** An HTTP server on `address` that answers each request with the peer it saw, and records it. */
export async function startHttpServerIn(namespace: Namespace, address: string, port = 8080): Promise<HttpServer> {
  const script = `
    require('http').createServer((req, res) => {
      const peer = req.socket.remoteAddress + ':' + req.socket.remotePort;
      console.log('peer ' + peer);
      res.end(peer + '\\n');
    }).listen(${port}, '${address}', () => console.log('listening'));
  `;
  const child = namespace.spawn('node', ['-e', script]);
  await waitForLine(child.stdout!, /^listening$/);
  const peers: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.startsWith('peer ')) peers.push(line.slice(5));
  });
  return { child, peers };
}

/** curl from the client to `serverSix` through the prefix: exit code, body and the client's port. */
export async function curlTo(t: Topology, serverSix: string, port = 8080): Promise<{ code: number; body: string; localPort: number }> {
  const result = await t.client.run('curl', ['-sS', '--max-time', '10', '-w', '\\n%{local_port}', `http://[${serverSix}]:${port}/`], { timeoutMs: 15_000 });
  const lines = result.stdout.trimEnd().split('\n');
  return { code: result.code, body: lines.slice(0, -1).join('\n').trim(), localPort: Number(lines.at(-1)) };
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
  const fields = ['ip.src', 'ip.dst', 'udp.dstport', 'geneve.vni', 'geneve.proto_type', 'geneve.flags.oam', 'geneve.option.class', 'geneve.option.type', 'geneve.option.length'];
  const result = await namespace.run('tshark', ['-n', '-r', file, '-d', 'udp.port==6081,geneve', '-Y', 'geneve', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])]);
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
