import type { DeviceDto } from '@loupe/api-contracts';
import { describe, expect, it } from 'vitest';
import { isOnline, runningCheck, toFleetRows } from './fleet-rows';

const now = new Date('2026-11-22T12:00:00.000Z');

/** A device that sends telemetry and never enrolled. */
function device(overrides: Partial<DeviceDto>): DeviceDto {
  return {
    siteId: 'plant-7',
    deviceId: 'aoi-03',
    fleetGroup: null,
    revoked: false,
    enrolledAt: null,
    agentVersion: '0.1.0',
    model: { name: 'pcb-aoi', version: '3' },
    provider: 'tensorrt',
    firstSeenAt: '2026-11-22T10:00:00.000Z',
    lastSeenAt: '2026-11-22T11:59:48.000Z',
    desired: null,
    reported: null,
    stats: null,
    ...overrides,
  };
}

const V3 = { name: 'pcb-aoi', version: '3', sha256: 'a'.repeat(64) };
const V4 = { name: 'pcb-aoi', version: '4', sha256: 'b'.repeat(64) };

/** A device that enrolled, sends telemetry and takes model updates. */
function enrolled(overrides: Partial<DeviceDto>): DeviceDto {
  return device({
    fleetGroup: 'line-3',
    enrolledAt: '2026-11-22T09:00:00.000Z',
    desired: { generation: 2, model: V4, rolloutId: 'e4f1c2d3-0000-4000-8000-000000000001' },
    reported: {
      generation: 2,
      reportedAt: '2026-11-22T11:59:40.000Z',
      status: 'ACTIVE',
      active: V4,
      previous: V3,
      error: '',
      provider: 'tensorrt',
      runningSha256: V4.sha256,
    },
    ...overrides,
  });
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
        ota: null,
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
        enrolled({ siteId: 'plant-7', deviceId: 'a' }),
        enrolled({ siteId: 'plant-10', deviceId: 'z' }),
      ],
      now,
    );
    expect(rows.map((row) => row.key)).toEqual(['plant-10/z', 'plant-7/a', 'plant-7/b', 'plant-9/a']);
  });

  it('keeps devices with the same id at different sites apart', () => {
    const rows = toFleetRows([device({ siteId: 'plant-7' }), device({ siteId: 'plant-9' })], now);
    expect(new Set(rows.map((row) => row.key)).size).toBe(2);
  });

  it("shows a device's telemetry and its model update in one row", () => {
    const [row, ...others] = toFleetRows([enrolled({})], now);
    expect(others).toEqual([]);
    expect(row).toMatchObject({ model: 'pcb-aoi@3', online: true });
    expect(row?.ota).toEqual({
      group: 'line-3',
      revoked: false,
      desired: 'pcb-aoi@4',
      rolloutId: 'e4f1c2d3-0000-4000-8000-000000000001',
      status: 'ACTIVE',
      active: 'pcb-aoi@4',
      previous: 'pcb-aoi@3',
      error: '-',
      running: 'matches',
    });
  });

  it('lists an enrolled device that never sent telemetry, with what it reported', () => {
    const [row] = toFleetRows([enrolled({ agentVersion: null, model: null, provider: null, firstSeenAt: null, lastSeenAt: null })], now);
    expect(row).toMatchObject({ agent: '-', model: '-', provider: 'tensorrt', lastSeen: 'never', online: false });
  });

  it('says when an enrolled device has neither a desired model nor a report', () => {
    const [row] = toFleetRows([enrolled({ desired: null, reported: null })], now);
    expect(row?.ota).toMatchObject({ desired: '-', rolloutId: null, status: 'not reported', active: '-', previous: '-', running: 'nothing-desired' });
  });

  it("shows the device's error when it refused the desired version", () => {
    const reported = { ...enrolled({}).reported!, status: 'FAILED', active: V3, previous: null, error: 'signature does not verify', runningSha256: V3.sha256 };
    const [row] = toFleetRows([enrolled({ reported })], now);
    expect(row?.ota).toMatchObject({ status: 'FAILED', active: 'pcb-aoi@3', error: 'signature does not verify', running: 'differs' });
  });
});

describe('runningCheck', () => {
  it('compares the hash the device runs with the desired one', () => {
    expect(runningCheck('a'.repeat(64), 'a'.repeat(64))).toBe('matches');
    expect(runningCheck('a'.repeat(64), 'b'.repeat(64))).toBe('differs');
  });

  it('tells nothing desired apart from nothing reported', () => {
    expect(runningCheck(undefined, 'a'.repeat(64))).toBe('nothing-desired');
    expect(runningCheck('a'.repeat(64), '')).toBe('unreported');
    expect(runningCheck('a'.repeat(64), undefined)).toBe('unreported');
  });
});
