// The three hosts every NAT64 lab here starts from: an IPv6-only client, the gateway (its TUN device
// and routes come once a gateway program runs) and an IPv4-only server, joined by veth links.
//
//   client (IPv6 only)            gateway                                   server (IPv4 only)
//   2001:db8:1::2/64 ---veth--- 2001:db8:1::1/64
//                                (TUN: 2001:db8:64::/96 and 198.51.100.1)   203.0.113.2/24
//                                 203.0.113.1/24 -----------------veth---   route 198.51.100.1 via .1
//   route 2001:db8:64::/96 via 2001:db8:1::1
//
// Documentation addresses only, and routes only inside the lab.

import { Lab, type Namespace } from './lab.js';

export const NAT64_ADDRESSES = {
  client: '2001:db8:1::2',
  gatewaySix: '2001:db8:1::1',
  prefix: '2001:db8:64::/96',
  pool4: '198.51.100.1',
  gatewayFour: '203.0.113.1',
  server: '203.0.113.2',
  /** The server under the prefix: what the IPv6-only client connects to. */
  serverSix: '2001:db8:64::cb00:7102',
} as const;

export interface Nat64Topology {
  readonly lab: Lab;
  readonly client: Namespace;
  readonly gateway: Namespace;
  readonly server: Namespace;
  /** Interface names: [client side, gateway side] and [gateway side, server side]. */
  readonly clientLink: [string, string];
  readonly serverLink: [string, string];
}

/** Creates the three namespaces and their links; `clients` are the client's addresses (default one). */
export function createNat64Topology(tag: string, clients: readonly string[] = [NAT64_ADDRESSES.client]): Nat64Topology {
  const a = NAT64_ADDRESSES;
  const lab = new Lab(tag);
  try {
    const client = lab.addNamespace('cli');
    const gateway = lab.addNamespace('gw');
    const server = lab.addNamespace('srv');
    const clientLink = lab.link(client, gateway, { addresses: [clients.map((address) => `${address}/64`), [`${a.gatewaySix}/64`]] });
    const serverLink = lab.link(gateway, server, { addresses: [[`${a.gatewayFour}/24`], [`${a.server}/24`]] });
    client.ip('-6', 'route', 'add', a.prefix, 'via', a.gatewaySix);
    server.ip('route', 'add', `${a.pool4}/32`, 'via', a.gatewayFour);
    gateway.sysctl('net.ipv4.conf.all.forwarding', 1);
    gateway.sysctl('net.ipv6.conf.all.forwarding', 1);
    return { lab, client, gateway, server, clientLink, serverLink };
  } catch (error) {
    lab.destroy();
    throw error;
  }
}
