import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envBoolean, envDurationMs, envPort, envUrl } from './env-types';
import { ConfigError, loadConfig } from './load-config';

const schema = z.object({
  MQTT_URL: envUrl(['mqtt', 'mqtts']).default('mqtt://127.0.0.1:1883'),
  HTTP_PORT: envPort().default(8080),
  TELEMETRY_INTERVAL: envDurationMs().prefault('10s'),
  VERBOSE: envBoolean().default(false),
});

describe('loadConfig', () => {
  it('applies defaults when the environment is silent', () => {
    expect(loadConfig('test-app', schema, {})).toEqual({
      MQTT_URL: 'mqtt://127.0.0.1:1883',
      HTTP_PORT: 8080,
      TELEMETRY_INTERVAL: 10_000,
      VERBOSE: false,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig('test-app', schema, { HTTP_PORT: '' }).HTTP_PORT).toBe(8080);
  });

  it('parses values written the way operators write them', () => {
    const config = loadConfig('test-app', schema, {
      MQTT_URL: 'mqtts://broker.example:8883',
      HTTP_PORT: '9000',
      TELEMETRY_INTERVAL: '250ms',
      VERBOSE: 'yes',
    });
    expect(config).toEqual({
      MQTT_URL: 'mqtts://broker.example:8883',
      HTTP_PORT: 9000,
      TELEMETRY_INTERVAL: 250,
      VERBOSE: true,
    });
  });

  it('names every bad key with the value it got', () => {
    const read = () =>
      loadConfig('test-app', schema, { MQTT_URL: 'not-a-url', HTTP_PORT: '70000', TELEMETRY_INTERVAL: 'soon' });
    expect(read).toThrow(ConfigError);
    try {
      read();
    } catch (error) {
      const { issues, message } = error as ConfigError;
      expect(issues.map((issue) => issue.key)).toEqual(['MQTT_URL', 'HTTP_PORT', 'TELEMETRY_INTERVAL']);
      expect(message).toContain('MQTT_URL: must be a URL starting with mqtt://, mqtts:// (got "not-a-url")');
      expect(message).toContain('HTTP_PORT: must be between 0 and 65535 (got "70000")');
    }
  });

  it('refuses a URL with the wrong scheme', () => {
    expect(() => loadConfig('test-app', schema, { MQTT_URL: 'http://broker:1883' })).toThrow(/MQTT_URL/);
  });
});
