export { ConfigError, loadConfig, type ConfigIssue } from './load-config';
export { envBoolean, envDurationMs, envPort, envUrl } from './env-types';
export { documentedKeys } from './documented-keys';
export { redactUrl } from './redact-url';
