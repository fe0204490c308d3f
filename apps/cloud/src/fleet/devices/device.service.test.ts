import { describe, expect, it } from 'vitest';
import { Clock } from '../../clock';
import { DeviceRepository, type Device, type DeviceSighting } from './device.repository';
import { DeviceService } from './device.service';

class FixedClock extends Clock {
  constructor(public current: Date) {
    super();
  }
  now(): Date {
    return this.current;
  }
}

class InMemoryDeviceRepository extends DeviceRepository {
  readonly sightings: DeviceSighting[] = [];
  readonly enrolled: Device[] = [];
  recordSightings(sightings: DeviceSighting[]): Promise<void> {
    this.sightings.push(...sightings);
    return Promise.resolve();
  }
  list(): Promise<Device[]> {
    const heard = this.sightings.map(({ siteId, deviceId, agentVersion, model, provider, seenAt }) => ({
      siteId,
      deviceId,
      enrollment: null,
      telemetry: { agentVersion, model, provider, firstSeenAt: seenAt, lastSeenAt: seenAt },
      desired: null,
      reported: null,
      stats: null,
    }));
    return Promise.resolve([...heard, ...this.enrolled]);
  }
}

describe('DeviceService', () => {
  const report = { siteId: 'plant-7', deviceId: 'aoi-03', agentVersion: '0.1.0', model: null, provider: 'cpu', modelStats: null };

  it('stamps a report with the cloud clock, not the device clock', async () => {
    const repository = new InMemoryDeviceRepository();
    const clock = new FixedClock(new Date('2026-11-22T10:00:00Z'));
    await new DeviceService(repository, clock).recordReport(report);
    expect(repository.sightings[0]?.seenAt).toEqual(new Date('2026-11-22T10:00:00Z'));
  });

  it('lists devices with ISO 8601 timestamps, and nulls for what the cloud does not know', async () => {
    const repository = new InMemoryDeviceRepository();
    const service = new DeviceService(repository, new FixedClock(new Date('2026-11-22T10:00:00Z')));
    await service.recordReport(report);
    repository.enrolled.push({
      siteId: 'plant-7',
      deviceId: 'aoi-04',
      enrollment: { fleetGroup: 'line-a', enrolledAt: new Date('2026-11-22T09:00:00Z'), revoked: true },
      telemetry: null,
      desired: null,
      reported: null,
      stats: null,
    });
    const nothingElse = { desired: null, reported: null, stats: null };
    expect(await service.list()).toEqual([
      {
        siteId: 'plant-7',
        deviceId: 'aoi-03',
        fleetGroup: null,
        revoked: false,
        enrolledAt: null,
        agentVersion: '0.1.0',
        model: null,
        provider: 'cpu',
        firstSeenAt: '2026-11-22T10:00:00.000Z',
        lastSeenAt: '2026-11-22T10:00:00.000Z',
        ...nothingElse,
      },
      {
        siteId: 'plant-7',
        deviceId: 'aoi-04',
        fleetGroup: 'line-a',
        revoked: true,
        enrolledAt: '2026-11-22T09:00:00.000Z',
        agentVersion: null,
        model: null,
        provider: null,
        firstSeenAt: null,
        lastSeenAt: null,
        ...nothingElse,
      },
    ]);
  });
});
