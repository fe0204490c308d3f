import type { DeviceDto } from '@loupe/api-contracts';
import { describe, expect, it } from 'vitest';
import { isOnline, toFleetRows } from './fleet-rows';

const now = new Date('2026-11-22T12:00:00.000Z');

function device(overrides: Partial<DeviceDto>): DeviceDto {
  return {
    siteId: 'plant-7',
    deviceId: 'aoi-03',
    agentVersion: '0.1.0',
    model: { name: 'pcb-aoi', version: '3' },
    provider: 'tensorrt',
    firstSeenAt: '2026-11-22T10:00:00.000Z',
    lastSeenAt: '2026-11-22T11:59:48.000Z',
    ...overrides,
  };
}

describe('isOnline', () => {
  it('counts a device heard from 30 s ago as online', () => {
    expect(isOnline(new Date('2026-11-22T11:59:30.000Z'), now)).toBe(true);
  });

  it('counts a device silent for just over 30 s as offline', () => {
    expect(isOnline(new Date('2026-11-22T11:59:29.999Z'), now)).toBe(false);
  });
});

describe('toFleetRows', () => {
  it('describes each device for the table', () => {
    expect(toFleetRows([device({})], now)).toEqual([
      {
        key: 'plant-7/aoi-03',
        site: 'plant-7',
        device: 'aoi-03',
        agent: '0.1.0',
        model: 'pcb-aoi@3',
        provider: 'tensorrt',
        lastSeen: '12 s ago',
        online: true,
      },
    ]);
  });

  it('shows a dash for a device that has not run a model yet', () => {
    const [row] = toFleetRows([device({ model: null, provider: null, lastSeenAt: '2026-11-22T11:00:00.000Z' })], now);
    expect(row).toMatchObject({ model: '-', provider: '-', lastSeen: '1 h ago', online: false });
  });

  it('orders by site and then device, whatever order the cloud sent', () => {
    const rows = toFleetRows(
      [
        device({ siteId: 'plant-9', deviceId: 'a' }),
        device({ siteId: 'plant-7', deviceId: 'b' }),
        device({ siteId: 'plant-7', deviceId: 'a' }),
      ],
      now,
    );
    expect(rows.map((row) => row.key)).toEqual(['plant-7/a', 'plant-7/b', 'plant-9/a']);
  });

  it('keeps devices with the same id at different sites apart', () => {
    const rows = toFleetRows([device({ siteId: 'plant-7' }), device({ siteId: 'plant-9' })], now);
    expect(new Set(rows.map((row) => row.key)).size).toBe(2);
  });
});
