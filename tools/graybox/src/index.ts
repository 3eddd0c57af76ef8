// @nat64/graybox: test support that replays peer graybox suites (Jool's, as JSON under
// ../shared/testdata) against our translator and gateway, comparing packets by the suites' rules.

export { compareExchange, comparePacket, type ByteDifference, type Comparison, type ExchangeResult } from './compare.js';
export { fieldAt, fieldMap, type FieldRange } from './fields.js';
export { fromHex, toHex } from './hex.js';
export {
  loadSuite,
  missingSuiteNote,
  repoRoot,
  testdataDir,
  type CaseSettings,
  type Direction,
  type ExpectedPacket,
  type GrayboxCase,
  type GrayboxSuite,
  type Preconditions,
} from './suite.js';
