import { describe, expect, it } from 'vitest';
import { deviceListResponseSchema } from './devices.dto';

describe('deviceListResponseSchema', () => {
  const device = {
    siteId: 'plant-7',
    deviceId: 'aoi-03',
    fleetGroup: 'line-3',
    revoked: false,
    enrolledAt: '2026-11-22T09:00:00.000Z',
    agentVersion: '0.1.0',
    model: { name: 'pcb-aoi', version: '3' },
    provider: 'cpu',
    firstSeenAt: '2026-11-22T10:00:00.000Z',
    lastSeenAt: '2026-11-22T10:05:00.000Z',
    desired: null,
    reported: null,
    stats: null,
  };

  it('accepts the documented shape', () => {
    expect(deviceListResponseSchema.parse({ devices: [device] }).devices[0]?.deviceId).toBe('aoi-03');
  });

  it('accepts a device that has no model yet', () => {
    expect(deviceListResponseSchema.safeParse({ devices: [{ ...device, model: null, provider: null }] }).success).toBe(true);
  });

  it('accepts an enrolled device never heard from, and a device heard from that never enrolled', () => {
    const silent = { ...device, agentVersion: null, model: null, provider: null, firstSeenAt: null, lastSeenAt: null };
    const unenrolled = { ...device, fleetGroup: null, enrolledAt: null };
    expect(deviceListResponseSchema.safeParse({ devices: [silent, unenrolled] }).success).toBe(true);
  });

  it('rejects timestamps that are not ISO 8601', () => {
    expect(deviceListResponseSchema.safeParse({ devices: [{ ...device, lastSeenAt: 'yesterday' }] }).success).toBe(false);
  });
});
