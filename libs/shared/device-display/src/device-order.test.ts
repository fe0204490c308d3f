import type { DeviceDto } from '@loupe/api-contracts';
import { describe, expect, it } from 'vitest';
import { byDeviceOrder, modelLabel } from './device-order';

const device = (siteId: string, deviceId: string): DeviceDto => ({
  siteId,
  deviceId,
  fleetGroup: null,
  revoked: false,
  enrolledAt: null,
  agentVersion: '0.1.0',
  model: null,
  provider: null,
  firstSeenAt: '2026-11-22T10:00:00.000Z',
  lastSeenAt: '2026-11-22T10:00:00.000Z',
  desired: null,
  reported: null,
  stats: null,
});

describe('byDeviceOrder', () => {
  it('orders by site, then device, by code point', () => {
    const sorted = [device('b', 'x'), device('a', 'z'), device('a', 'Y'), device('a', 'y')].sort(byDeviceOrder);
    expect(sorted.map((d) => `${d.siteId}/${d.deviceId}`)).toEqual(['a/Y', 'a/y', 'a/z', 'b/x']);
  });
});

describe('modelLabel', () => {
  it('names the model and version, or a dash without one', () => {
    expect(modelLabel({ ...device('a', 'b'), model: { name: 'pcb-aoi', version: '3' } })).toBe('pcb-aoi@3');
    expect(modelLabel(device('a', 'b'))).toBe('-');
  });
});
