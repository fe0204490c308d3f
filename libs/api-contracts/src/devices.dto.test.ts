import { describe, expect, it } from 'vitest';
import { deviceListResponseSchema } from './devices.dto';

describe('deviceListResponseSchema', () => {
  const device = {
    siteId: 'plant-7',
    deviceId: 'aoi-03',
    agentVersion: '0.1.0',
    model: { name: 'pcb-aoi', version: '3' },
    provider: 'cpu',
    firstSeenAt: '2026-11-22T10:00:00.000Z',
    lastSeenAt: '2026-11-22T10:05:00.000Z',
  };

  it('accepts the documented shape', () => {
    expect(deviceListResponseSchema.parse({ devices: [device] }).devices[0]?.deviceId).toBe('aoi-03');
  });

  it('accepts a device that has no model yet', () => {
    expect(deviceListResponseSchema.safeParse({ devices: [{ ...device, model: null, provider: null }] }).success).toBe(true);
  });

  it('rejects timestamps that are not ISO 8601', () => {
    expect(deviceListResponseSchema.safeParse({ devices: [{ ...device, lastSeenAt: 'yesterday' }] }).success).toBe(false);
  });
});
