export { notify, NotifyError } from './notify.js';
export { ServiceNotifier, watchdogIntervalMs, type NotifierOptions } from './service-notifier.js';
