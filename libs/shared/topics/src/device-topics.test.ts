import { describe, expect, it } from 'vitest';
import { DeviceTopics, InvalidTopicSegmentError } from './device-topics';

describe('DeviceTopics', () => {
  const topics = new DeviceTopics();

  it('builds the documented topic for each channel', () => {
    expect(topics.forDevice('plant-7', 'aoi-03', 'telemetry')).toBe('loupe/v1/plant-7/aoi-03/telemetry');
    expect(topics.forDevice('plant-7', 'aoi-03', 'desired')).toBe('loupe/v1/plant-7/aoi-03/desired');
  });

  it('round-trips a device topic through parse', () => {
    const topic = topics.forDevice('plant-7', 'aoi-03', 'samples');
    expect(topics.parse(topic)).toEqual({ siteId: 'plant-7', deviceId: 'aoi-03', channel: 'samples' });
  });

  it('ignores topics outside its root or with unknown channels', () => {
    expect(topics.parse('other/v1/plant-7/aoi-03/telemetry')).toBeUndefined();
    expect(topics.parse('loupe/v1/plant-7/aoi-03/firmware')).toBeUndefined();
    expect(topics.parse('loupe/v1/plant-7/telemetry')).toBeUndefined();
  });

  it('refuses ids that would change the topic structure', () => {
    for (const bad of ['a/b', '+', '#', '$SYS', '', 'x'.repeat(65)]) {
      expect(() => topics.forDevice(bad, 'aoi-03', 'telemetry')).toThrow(InvalidTopicSegmentError);
    }
  });

  it('uses a custom root for every topic and filter', () => {
    const scoped = new DeviceTopics('test/run-42/loupe/v1');
    expect(scoped.allDevices('telemetry')).toBe('test/run-42/loupe/v1/+/+/telemetry');
    expect(scoped.sharedAllDevices('cloud', 'samples')).toBe('$share/cloud/test/run-42/loupe/v1/+/+/samples');
    expect(scoped.parse('test/run-42/loupe/v1/s1/d1/acks')).toEqual({ siteId: 's1', deviceId: 'd1', channel: 'acks' });
    expect(scoped.parse('loupe/v1/s1/d1/acks')).toBeUndefined();
  });

  it('refuses a root with wildcards, empty levels or a leading $', () => {
    for (const root of ['loupe/+', 'loupe/#', 'loupe//v1', '/loupe', '$SYS/loupe', '']) {
      expect(() => new DeviceTopics(root)).toThrow(/wildcards/);
    }
  });
});
