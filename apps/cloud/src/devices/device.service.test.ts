import { describe, expect, it } from 'vitest';
import { Clock } from '../clock';
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
  recordSighting(sighting: DeviceSighting): Promise<void> {
    this.sightings.push(sighting);
    return Promise.resolve();
  }
  list(): Promise<Device[]> {
    return Promise.resolve(
      this.sightings.map(({ seenAt, ...rest }) => ({ ...rest, firstSeenAt: seenAt, lastSeenAt: seenAt })),
    );
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

  it('lists devices with ISO 8601 timestamps', async () => {
    const repository = new InMemoryDeviceRepository();
    const service = new DeviceService(repository, new FixedClock(new Date('2026-11-22T10:00:00Z')));
    await service.recordReport(report);
    expect(await service.list()).toEqual([
      { ...report, firstSeenAt: '2026-11-22T10:00:00.000Z', lastSeenAt: '2026-11-22T10:00:00.000Z' },
    ]);
  });
});
