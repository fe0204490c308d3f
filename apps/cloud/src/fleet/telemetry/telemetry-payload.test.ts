import { Telemetry } from '@loupe/proto';
import { describe, expect, it } from 'vitest';
import { InvalidTelemetryError, readTelemetry } from './telemetry-payload';

const topic = { siteId: 'plant-7', deviceId: 'aoi-03', channel: 'telemetry' as const };

function encode(message: Parameters<typeof Telemetry.fromPartial>[0]): Buffer {
  return Buffer.from(Telemetry.encode(Telemetry.fromPartial(message)).finish());
}

describe('readTelemetry', () => {
  it('reads the device report from a valid message', () => {
    const payload = encode({
      device: { siteId: 'plant-7', deviceId: 'aoi-03' },
      agentVersion: '0.1.0',
      model: { name: 'pcb-aoi', version: '3', sha256: 'ab' },
      provider: 'cpu',
    });
    expect(readTelemetry(topic, payload)).toEqual({
      siteId: 'plant-7',
      deviceId: 'aoi-03',
      agentVersion: '0.1.0',
      model: { name: 'pcb-aoi', version: '3' },
      provider: 'cpu',
      modelStats: null,
    });
  });

  it('reads the model stats the rollout gates compare', () => {
    const payload = encode({
      agentVersion: '0.1.0',
      modelStats: {
        model: { name: 'pcb-aoi', version: '3', sha256: '' },
        inspections: 100,
        errors: 1,
        rejects: 5,
        uncertain: 7,
        confidenceHistogram: [0, 0, 0, 0, 0, 1, 4, 10, 25, 60],
        p99Ms: 18.5,
        shadowCompared: 0,
        shadowDisagreed: 0,
      },
    });
    expect(readTelemetry(topic, payload).modelStats).toEqual({
      modelName: 'pcb-aoi',
      modelVersion: '3',
      inspections: 100,
      errors: 1,
      rejects: 5,
      uncertain: 7,
      confidenceHistogram: [0, 0, 0, 0, 0, 1, 4, 10, 25, 60],
      p99Ms: 18.5,
      shadowVersion: null,
      shadowCompared: 0,
      shadowDisagreed: 0,
    });
  });

  it('refuses model stats with a histogram of the wrong size', () => {
    const payload = encode({ agentVersion: '0.1.0', modelStats: { model: { name: 'm', version: '1', sha256: '' }, confidenceHistogram: [1, 2] } });
    expect(() => readTelemetry(topic, payload)).toThrow(/confidence_histogram must have 10 bins/);
  });

  it('reports no model and no provider before a model is active', () => {
    expect(readTelemetry(topic, encode({ agentVersion: '0.1.0' }))).toMatchObject({ model: null, provider: null });
  });

  it('refuses bytes that are not a Telemetry message', () => {
    expect(() => readTelemetry(topic, Buffer.from([0xff, 0xff, 0xff, 0xff]))).toThrow(InvalidTelemetryError);
  });

  it('refuses a message without an agent version', () => {
    expect(() => readTelemetry(topic, encode({ provider: 'cpu' }))).toThrow(/agent_version is required/);
  });

  it('refuses a payload that claims to be another device', () => {
    const payload = encode({ device: { siteId: 'plant-7', deviceId: 'aoi-99' }, agentVersion: '0.1.0' });
    expect(() => readTelemetry(topic, payload)).toThrow(/names device plant-7\/aoi-99 but was published on plant-7\/aoi-03/);
  });
});
