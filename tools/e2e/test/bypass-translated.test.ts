// NAT64 bypass, flows keep their path after their session: a TCP connection translated before its host
// accepted bypass, idle until the gateway's session for it timed out, whose *client* speaks first, goes on
// translated on its NAT port (the gateway's memory of translated flows) instead of entering the tunnel,
// where the server's IPv6 stack would answer with a RST. The built `nat64-gateway run --transport bypass`
// (short TCP timeouts) and `nat64-receiver run --transport bypass`, across network namespaces:
//
//   client (IPv6 only)         gateway                                         server (IPv4 only, IPv6 disabled)
//   2001:db8:1::2 ---veth--- 2001:db8:1::1                                      203.0.113.2
//   node TCP client           TUN "nat64": nat64-gateway --transport bypass  ---veth---  nat64-receiver --transport bypass
//                             prefix 2001:db8:64::/96, pool4 198.51.100.1     203.0.113.1  TCP echo on 203.0.113.2:9100
//                             TCP established 3 s, transitory 2 s
//
// Documentation addresses only; everything lives in the lab's namespaces, removed on every path.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitFor } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADDRESSES,
  GATEWAY_MAIN,
  createTopology,
  gatewayCli,
  gatewayUnbuiltReason,
  type RunningGateway,
  type Topology,
  startLabGateway,
} from './support/gateway-lab.js';
import {
  gatewayCounters,
  gatewayHosts,
  receiverUnbuiltReason,
  startClientConversation,
  startReceiverIn,
  type ClientConversation,
  type RunningReceiver,
} from './support/handoff-lab.js';

const unavailable = labUnavailableReason([]) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`bypass translated-flow end-to-end tests skipped: ${unavailable}`);

const PORT = 9100;

describe.skipIf(unavailable)('bypass: a translated connection whose session timed out (end to end)', () => {
  let t: Topology;
  let dir: string;
  let control: string;
  let gateway: RunningGateway;
  let receiver: RunningReceiver | undefined;
  let conversation: ClientConversation | undefined;

  const sessionsTo = async () => {
    const listed = await gatewayCli(['sessions', '--control', control, '--protocol', 'tcp', '--server', ADDRESSES.server, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    return listed.stdout
      .split('\n')
      .filter(Boolean)
      .filter((line) => line.includes(`"${ADDRESSES.server}:${PORT}"`));
  };

  beforeAll(async () => {
    t = createTopology('bpt');
    dir = mkdtempSync(join(tmpdir(), 'n64-bypass-kept-'));
    control = join(dir, 'gateway.sock');
    t.server.sysctl('net.ipv6.conf.all.disable_ipv6', 1);
    t.server.sysctl('net.ipv6.conf.default.disable_ipv6', 1);
    writeFileSync(
      join(dir, 'gateway.json'),
      JSON.stringify({
        statsInterval: '0s',
        timeouts: { tcpEstablished: '3s', tcpTransitory: '2s', allowBelowMinimum: true },
        handoff: { bypass: { secretFile: join(dir, 'state', 'bypass-secret'), offerInterval: '1s' } },
      }),
    );
    gateway = await startLabGateway(t, control, ['--config', join(dir, 'gateway.json'), '--transport', 'bypass']);
  });

  afterAll(async () => {
    conversation?.close();
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    if (receiver !== undefined && receiver.child.exitCode === null) await receiver.stop();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('goes on translated on its NAT port when the client speaks first, instead of entering the tunnel', async () => {
    conversation = await startClientConversation(t, PORT);
    await conversation.ask('before');
    receiver = await startReceiverIn(t.server, ADDRESSES.server, dir, undefined, [
      '--transport',
      'bypass',
      '--bypass-prefix',
      ADDRESSES.prefix,
      '--allow',
      `${ADDRESSES.pool4}/32`,
    ]);
    await waitFor(
      'the host in bypass',
      async () => (await gatewayHosts(GATEWAY_MAIN, control)).hosts.some((row) => row['host'] === ADDRESSES.server && row['transport'] === 'bypass'),
      15_000,
    );
    // Still translated while its session lives (the words come from the NAT port the server accepted).
    await conversation.ask('accepted');
    await waitFor('the session timed out', async () => (await sessionsTo()).length === 0, 20_000);
    const before = await gatewayCounters(GATEWAY_MAIN, control);
    expect(before['bypass.translatedFlowsRemembered']).toBeGreaterThanOrEqual(1);
    expect(before['bypass.translatedFlows']).toBeGreaterThanOrEqual(1);

    await conversation.ask('again');
    await conversation.ask('more');

    const after = await gatewayCounters(GATEWAY_MAIN, control);
    expect(after['bypass.translatedFlowsRestored']! - (before['bypass.translatedFlowsRestored'] ?? 0)).toBe(1);
    expect(after['bypass.translatedFlowsConflicts']).toBe(0);
    expect((after['bypass.framesOut'] ?? 0) - (before['bypass.framesOut'] ?? 0)).toBe(0);
    expect(conversation.accepted()).toBe(1);
  });
});
