// What every daemon in this project shares: logging, time, signals, exit codes, configuration
// reading, address text, the local control socket, the Prometheus metrics endpoint, and start and
// stop (Resources: acquired in order, released in reverse).
export { ExitCode, FatalError } from './exit-codes.js';
export { systemMicroClock, manualMicroClock, type MicroClock } from './clock.js';
export { createLogger, silentLogger, isLogLevel, LOG_LEVELS, type Logger } from './logger.js';
export { logReload } from './reload.js';
export { waitForShutdown, onReopenSignal, type ShutdownSignal } from './signals.js';
export {
  listenControl,
  callControl,
  streamControl,
  ControlError,
  type ControlServer,
  type ControlHandler,
  type ControlParams,
} from './control.js';
export { ConfigError, ConfigReader, readJsonFile, parseDuration, formatDuration } from './config.js';
export { Counters, formatCounters, statusCounters, type CounterSnapshot } from './counters.js';
export { formatEndpoint4, formatEndpoint6 } from './addresses.js';
export { formatTable } from './table.js';
export { prepareControlPath, prepareDirectoryFor } from './start-checks.js';
export { Resources, type Release, type ReleaseFailure } from './resources.js';
export {
  Histogram,
  formatMetrics,
  counterFamilies,
  snakeCase,
  METRICS_CONTENT_TYPE,
  type MetricFamily,
  type MetricSample,
  type MetricLabels,
  type MetricType,
  type CounterLine,
} from './metrics.js';
export {
  listenMetrics,
  parseMetricsAddress,
  readMetricsAddress,
  formatMetricsAddress,
  DEFAULT_METRICS_HOST,
  type MetricsAddress,
  type MetricsServer,
} from './metrics-server.js';
export { packageVersion, hintHelpAfterErrors, type CliCommand } from './cli.js';
