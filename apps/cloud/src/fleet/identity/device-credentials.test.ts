import { describe, expect, it } from 'vitest';
import { DeviceCredentials } from './device-credentials';
import type { DeviceCredential, DeviceRef } from './device-identity.repository';
import { hashMosquittoPassword } from './mosquitto-password';

/** Credentials in memory, counting lookups; `pause` holds lookups until released. */
function fakeRepository(rows: Map<string, DeviceCredential>) {
  let lookups = 0;
  let paused: Promise<void> | undefined;
  let release = () => undefined as void;
  return {
    repository: {
      async activeCredential(device: DeviceRef) {
        lookups++;
        const row = rows.get(`${device.siteId}/${device.deviceId}`);
        await paused;
        return row;
      },
    },
    lookups: () => lookups,
    pause() {
      paused = new Promise((resolve) => (release = resolve));
    },
    resume() {
      paused = undefined;
      release();
    },
  };
}

describe('DeviceCredentials', () => {
  const device = { siteId: 'plant-7', deviceId: 'aoi-01', fleetGroup: 'line-a' };

  it('checks Postgres at most every 30 s per device, forgets at once on invalidation, and never remembers unknown names', async () => {
    const rows = new Map([['plant-7/aoi-01', { ...device, secretHash: await hashMosquittoPassword('secret') }]]);
    const fake = fakeRepository(rows);
    const clock = { now: 0 };
    const credentials = new DeviceCredentials(fake.repository, () => clock.now);
    const invalidated: DeviceRef[] = [];
    credentials.onInvalidated((ref) => invalidated.push(ref));

    expect(await credentials.verify('plant-7/aoi-01', 'secret')).toEqual(device);
    expect(await credentials.verify('plant-7/aoi-01', 'wrong')).toBeUndefined();
    clock.now = 29_999;
    expect(await credentials.verify('plant-7/aoi-01', 'secret')).toEqual(device);
    expect(fake.lookups()).toBe(1);
    clock.now = 30_000;
    expect(await credentials.verify('plant-7/aoi-01', 'secret')).toEqual(device);
    expect(fake.lookups()).toBe(2);

    rows.delete('plant-7/aoi-01');
    credentials.invalidate({ siteId: 'plant-7', deviceId: 'aoi-01' });
    expect(invalidated).toEqual([{ siteId: 'plant-7', deviceId: 'aoi-01' }]);
    expect(await credentials.verify('plant-7/aoi-01', 'secret')).toBeUndefined();
    expect(await credentials.verify('plant-7/aoi-01', 'secret')).toBeUndefined();
    expect(fake.lookups()).toBe(4);
  });

  it('does not look up names that are not a device', async () => {
    const fake = fakeRepository(new Map());
    const credentials = new DeviceCredentials(fake.repository);
    for (const name of ['loupe-cloud', 'a/b/c', '', '+/#']) expect(await credentials.verify(name, 'x')).toBeUndefined();
    expect(fake.lookups()).toBe(0);
  });

  it('does not keep a row read before a revocation that lands while the lookup is in flight', async () => {
    const rows = new Map([['plant-7/aoi-01', { ...device, secretHash: await hashMosquittoPassword('secret') }]]);
    const fake = fakeRepository(rows);
    const credentials = new DeviceCredentials(fake.repository);
    fake.pause();
    const verifying = credentials.verify('plant-7/aoi-01', 'secret');
    rows.delete('plant-7/aoi-01');
    credentials.invalidate({ siteId: 'plant-7', deviceId: 'aoi-01' });
    fake.resume();
    expect(await verifying).toBeUndefined();
    expect(await credentials.verify('plant-7/aoi-01', 'secret')).toBeUndefined();
  });
});
