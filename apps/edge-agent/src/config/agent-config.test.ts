import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from './agent-config';

describe('loadAgentConfig', () => {
  it('has a working default for everything', () => {
    const config = loadAgentConfig({});
    expect(config.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    expect(config.telemetryIntervalMs).toBe(10_000);
    expect(config.siteId).toBe('default-site');
    expect(config.deviceId).toMatch(/^[a-z0-9][a-z0-9._-]*$/);
  });

  it('lets CPU threads spin for work only when told to', () => {
    expect(loadAgentConfig({}).inference.providers.cpu.spinWait).toBe(false);
    expect(loadAgentConfig({ CPU_SPIN_WAIT: 'true' }).inference.providers.cpu.spinWait).toBe(true);
  });

  it('reads the telemetry interval as a duration', () => {
    expect(loadAgentConfig({ TELEMETRY_INTERVAL: '2s' }).telemetryIntervalMs).toBe(2_000);
  });

  it('names MQTT_URL when it is not a URL', () => {
    expect(() => loadAgentConfig({ MQTT_URL: 'not-a-url' })).toThrow(/MQTT_URL: must be a URL/);
  });

  it('refuses a device id that would break the topic structure', () => {
    expect(() => loadAgentConfig({ DEVICE_ID: 'line/3' })).toThrow(/DEVICE_ID: must be 1-64 letters/);
  });

  it('needs CLOUD_URL to enroll with an ENROLLMENT_TOKEN, and never echoes the token', () => {
    expect(() => loadAgentConfig({ ENROLLMENT_TOKEN: 'secret-token' })).toThrow(/CLOUD_URL: is required with ENROLLMENT_TOKEN/);
    expect(() => loadAgentConfig({ ENROLLMENT_TOKEN: 'secret-token' })).not.toThrow(/secret-token/);
    expect(loadAgentConfig({ ENROLLMENT_TOKEN: 'secret-token', CLOUD_URL: 'https://loupe.example.com' }).enrollment).toMatchObject({
      cloudUrl: 'https://loupe.example.com',
      token: 'secret-token',
      credentialsFile: expect.stringMatching(/\.data\/edge\/credentials\.json$/) as unknown,
    });
  });

  it('refuses a telemetry interval that would flood the broker', () => {
    expect(() => loadAgentConfig({ TELEMETRY_INTERVAL: '10ms' })).toThrow(/TELEMETRY_INTERVAL: must be at least 100ms/);
  });
});
