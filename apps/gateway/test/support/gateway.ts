// A gateway built from a configuration on a FakeTun with a clock the test moves: what the app's tests
// (stats, metrics, sessions, reload, handoff) start from. The engine's own tests build from settings
// (packages/gateway-engine/test/support/engine.ts).

import { CLIENT, PREFIX, POOL4, SERVER, SERVER6, engineOnFakeTun, type EngineOnFakeTun } from '../../../../packages/gateway-engine/test/support/engine.js';
import { loadGatewayConfig, type GatewayConfig, type RawSettings } from '../../src/config.js';

export { CLIENT, PREFIX, POOL4, SERVER, SERVER6 };

export interface TestGateway extends EngineOnFakeTun {
  config: GatewayConfig;
}

export function testGateway(settings: RawSettings = {}): TestGateway {
  const config = loadGatewayConfig({ flags: { prefix: PREFIX, pool4: [POOL4], logLevel: 'silent', ...settings } });
  return { ...engineOnFakeTun(config), config };
}
