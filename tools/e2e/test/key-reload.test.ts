// End to end: a new handoff key without a restart. The gateway (handoff messages, --handoff-key-file)
// and the receiver (--key-file) share a key file; the operator writes a new key into it and reloads
// both (SIGHUP to the gateway, `nat64-receiver reload`): the next connection is still logged, so the
// gateway signs with the new key and the receiver checks with it. Topology in support/handoff-lab.ts:
//
//   client (IPv6 only) <--veth--> gateway (nat64-gateway --transport handoff) <--veth--> server 203.0.113.2 (nat64-receiver, HTTP 8080)

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitFor } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopology, gatewayUnbuiltReason, type RunningGateway, type Topology, startLabGateway } from './support/gateway-lab.js';
import {
  curlAndExpectLogged,
  receiverCli,
  receiverUnbuiltReason,
  startHttpServer,
  startReceiver,
  type HttpServer,
  type RunningReceiver,
} from './support/handoff-lab.js';

const unavailable = labUnavailableReason(['curl']) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`key reload end-to-end tests skipped: ${unavailable}`);

const FIRST_KEY = '3c'.repeat(32);
const SECOND_KEY = '7d'.repeat(24);

describe.skipIf(unavailable)('a new handoff key by reload (end to end)', () => {
  let t: Topology;
  let dir: string;
  let keyFile: string;
  let gateway: RunningGateway;
  let receiver: RunningReceiver;
  let http: HttpServer;

  beforeAll(async () => {
    t = createTopology('keyrl');
    dir = mkdtempSync(join(tmpdir(), 'n64-key-reload-e2e-'));
    keyFile = join(dir, 'handoff.key');
    writeFileSync(keyFile, `${FIRST_KEY}\n`, { mode: 0o600 });
    receiver = await startReceiver(t, dir, ['--key-file', keyFile]);
    http = await startHttpServer(t);
    const control = join(dir, 'gateway.sock');
    gateway = await startLabGateway(t, control, ['--transport', 'handoff', '--handoff-key-file', keyFile]);
  });

  afterAll(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('logs connections under the first key, then under the second one after both reload', async () => {
    await curlAndExpectLogged(t, http, receiver);

    writeFileSync(keyFile, `${SECOND_KEY}\n`);
    expect(await receiverCli(t, ['reload', '--control', receiver.control])).toBe('applied: keys\n');
    const from = gateway.log.length;
    gateway.child.kill('SIGHUP');
    const line = await waitFor('the gateway reload line', () =>
      gateway.log
        .slice(from)
        .map((text) => JSON.parse(text) as Record<string, unknown>)
        .find((entry) => String(entry['msg']).startsWith('reloaded the configuration')),
    );
    expect(line).toMatchObject({ applied: ['handoff.key'], needsRestart: [] });
    expect(gateway.log.join('\n')).not.toContain('7d7d');

    const before = receiver.lines().length;
    await curlAndExpectLogged(t, http, receiver);
    expect(receiver.lines().length).toBeGreaterThan(before);
    expect(gateway.child.exitCode).toBeNull();
  });
});
