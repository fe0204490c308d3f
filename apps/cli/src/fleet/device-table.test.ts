import type { DeviceDto } from '@loupe/api-contracts';
import { describe, expect, it } from 'vitest';
import { formatDeviceTable } from './device-table';

const now = new Date('2026-11-22T12:00:00.000Z');

function device(overrides: Partial<DeviceDto>): DeviceDto {
  return {
    siteId: 'plant-7',
    deviceId: 'aoi-03',
    fleetGroup: 'line-3',
    revoked: false,
    enrolledAt: '2026-11-22T09:00:00.000Z',
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

describe('formatDeviceTable', () => {
  it('aligns one row per device under the headings, by site and then device', () => {
    const table = formatDeviceTable(
      [
        device({ siteId: 'plant-9', deviceId: 'line-1', lastSeenAt: '2026-11-22T09:00:00.000Z' }),
        device({ deviceId: 'aoi-10', agentVersion: '0.2.0-rc.1', lastSeenAt: '2026-11-22T11:55:00.000Z' }),
        device({}),
      ],
      now,
    );
    expect(table).toBe(
      [
        'SITE     DEVICE  GROUP   AGENT       MODEL      PROVIDER  LAST SEEN  UPDATE',
        'plant-7  aoi-03  line-3  0.1.0       pcb-aoi@3  tensorrt  12 s ago   -',
        'plant-7  aoi-10  line-3  0.2.0-rc.1  pcb-aoi@3  tensorrt  5 min ago  -',
        'plant-9  line-1  line-3  0.1.0       pcb-aoi@3  tensorrt  3 h ago    -',
        '',
      ].join('\n'),
    );
  });

  it('shows a dash for a device that has not run a model yet', () => {
    const [, row] = formatDeviceTable([device({ model: null, provider: null })], now).split('\n');
    expect(row).toBe('plant-7  aoi-03  line-3  0.1.0  -      -         12 s ago   -');
  });

  it('marks a device that never enrolled, one that was revoked, and one never heard from', () => {
    const table = formatDeviceTable(
      [
        device({ deviceId: 'a', fleetGroup: null, enrolledAt: null }),
        device({ deviceId: 'b', revoked: true }),
        device({ deviceId: 'c', agentVersion: null, model: null, provider: null, firstSeenAt: null, lastSeenAt: null }),
      ],
      now,
    );
    expect(table.split('\n').slice(1, 4)).toEqual([
      'plant-7  a       -                 0.1.0  pcb-aoi@3  tensorrt  12 s ago   -',
      'plant-7  b       line-3 (revoked)  0.1.0  pcb-aoi@3  tensorrt  12 s ago   -',
      'plant-7  c       line-3            -      -          -         never      -',
    ]);
  });

  it('prints control characters from a device as "?" so they cannot drive the terminal', () => {
    const [, row] = formatDeviceTable([device({ agentVersion: '1.0\u001b[2J' })], now).split('\n');
    expect(row).toContain(' 1.0?[2J ');
  });
});
