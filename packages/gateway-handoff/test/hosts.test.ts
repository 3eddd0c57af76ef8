import { PeerState } from '@nat64/handoff-agent';
import { Capability } from '@nat64/handoff-codec';
import { describe, expect, it } from 'vitest';
import { formatHosts, hostRows, type HostsAnswer } from '../src/hosts.js';

describe('hosts', () => {
  it('turns peer summaries into rows with addresses as text and times relative to now', () => {
    const [row] = hostRows(
      [
        {
          natAddress: 0xc6336401,
          host: 0xcb007102,
          state: PeerState.AUTHORITATIVE,
          stateName: 'authoritative',
          epoch: 0x0123456789abcdefn,
          cookieKnown: true,
          window: 256,
          inFlight: 2,
          queued: 10,
          rtoMs: 200.4,
          srttMs: 1.234,
          lastHeardAt: 9_000,
          handedOff: 7,
          releaseCumulative: 0,
          queries: 1,
          capabilities: Capability.HANDOFF_V1 | Capability.GENEVE,
        },
      ],
      10_500,
      () => ({ transport: 'geneve', vni: 0xccddee }),
    );
    expect(row).toEqual({
      nat: '198.51.100.1',
      host: '203.0.113.2',
      state: 'authoritative',
      epoch: '0123456789abcdef',
      window: 256,
      inFlight: 2,
      queued: 10,
      rtoMs: 200,
      srttMs: 1.2,
      handedOff: 7,
      queries: 1,
      lastHeardMsAgo: 1500,
      transport: 'geneve',
      vni: 0xccddee,
      announced: ['handoff', 'geneve'],
    });
  });

  it('prints an aligned table with a count, and says when handoff is off', () => {
    const answer: HostsAnswer = {
      mode: 'full',
      transport: 'auto',
      hosts: [
        {
          nat: '198.51.100.1',
          host: '203.0.113.2',
          state: 'authoritative',
          epoch: '',
          window: 256,
          inFlight: 0,
          queued: 0,
          rtoMs: 200,
          srttMs: 1,
          handedOff: 12,
          queries: 0,
          lastHeardMsAgo: 1500,
          transport: 'geneve',
          vni: 7,
          announced: ['geneve'],
        },
        {
          nat: '198.51.100.1',
          host: '203.0.113.9',
          state: 'port-closed',
          epoch: '',
          window: 1,
          inFlight: 0,
          queued: 0,
          rtoMs: 1000,
          srttMs: null,
          handedOff: 0,
          queries: 0,
          lastHeardMsAgo: null,
          transport: 'handoff',
          vni: null,
          announced: [],
        },
      ],
    };
    expect(formatHosts(answer).split('\n')).toEqual([
      'NAT ADDRESS   HOST         STATE          TRANSPORT     WINDOW  IN FLIGHT  QUEUED  RTO     HANDED OFF  LAST HEARD',
      '198.51.100.1  203.0.113.2  authoritative  geneve vni 7  256     0          0       200ms   12          1.5s ago',
      '198.51.100.1  203.0.113.9  port-closed    handoff       1       0          0       1000ms  0           never',
      '(2 hosts, mode full, transport auto)',
    ]);
    expect(formatHosts({ mode: 'off', hosts: [] })).toMatch(/handoff is off/);
  });
});
