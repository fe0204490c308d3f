import { randomUUID } from 'node:crypto';
import { startTestDatabase, uniqueName, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock } from '../../clock';
import { openDatabase, type Database } from '../../database/database';
import { DeviceCredentials } from './device-credentials';
import { DeviceIdentityRepository, type DeviceRef } from './device-identity.repository';
import { EnrollmentService, type BrokerAccounts } from './enrollment.service';
import { DeviceNotEnrolledError, EnrollmentRefusedError } from './identity.errors';
import { IdentityMetrics } from './identity-metrics';

class PinnedClock extends Clock {
  at = new Date('2026-11-20T08:00:00Z');
  now(): Date {
    return new Date(this.at);
  }
}

describe('enrollment on Postgres', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let repository: DeviceIdentityRepository;
  let credentials: DeviceCredentials;
  let enrollment: EnrollmentService;
  const clock = new PinnedClock();
  const invalidated: DeviceRef[] = [];

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    repository = new DeviceIdentityRepository(database.db);
    credentials = new DeviceCredentials(repository);
    credentials.onInvalidated((device) => invalidated.push(device));
    enrollment = new EnrollmentService(repository, credentials, clock, new IdentityMetrics(new Registry()));
  });

  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  /** A device of this test's own, with a fresh token for it. */
  async function tokenFor(ttlSeconds = 3_600) {
    const device = { siteId: 'plant-7', deviceId: uniqueName('aoi') };
    const { token } = await enrollment.createToken({ ...device, fleetGroup: 'line-a', ttlSeconds }, randomUUID());
    return { device, token };
  }

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => 'enrolled',
      (error: unknown) => (error instanceof EnrollmentRefusedError ? error.reason : String(error)),
    );

  it('trades a token for credentials that sign in, once', async () => {
    const { device, token } = await tokenFor();
    const enrolled = await enrollment.enroll(token, device);
    expect(enrolled).toMatchObject({ ...device, fleetGroup: 'line-a', username: `plant-7/${device.deviceId}` });
    expect(Buffer.from(enrolled.password, 'base64url')).toHaveLength(32);
    expect(await credentials.verify(enrolled.username, enrolled.password)).toEqual({ ...device, fleetGroup: 'line-a' });
    expect(await credentials.verify(enrolled.username, `${enrolled.password}x`)).toBeUndefined();
    expect(await refusal(enrollment.enroll(token))).toBe('token-used');

    const { rows } = await database.pool.query<{ token_hash: string; secret_hash: string }>(
      'SELECT t.token_hash, c.secret_hash FROM enrollment_tokens t JOIN device_credentials c USING (site_id, device_id) WHERE t.device_id = $1',
      [device.deviceId],
    );
    expect(rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.token_hash).not.toContain(token);
    expect(rows[0]!.secret_hash).toMatch(/^\$7\$101\$/);
  });

  it('lets exactly one of many concurrent enrollments with one token win', async () => {
    const { token } = await tokenFor();
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => refusal(enrollment.enroll(token))));
    expect(outcomes.sort()).toEqual(['enrolled', ...Array<string>(7).fill('token-used')]);
  });

  it('refuses unknown and expired tokens, and a token for another device without using it up', async () => {
    expect(await refusal(enrollment.enroll('no-such-token'))).toBe('token-unknown');

    const { token: shortLived } = await tokenFor(60);
    clock.at = new Date(clock.at.getTime() + 60_000);
    expect(await refusal(enrollment.enroll(shortLived))).toBe('token-expired');

    const { device, token } = await tokenFor();
    expect(await refusal(enrollment.enroll(token, { siteId: 'plant-7', deviceId: 'someone-else' }))).toBe('token-for-another-device');
    await expect(enrollment.enroll(token, device)).resolves.toMatchObject(device);
  });

  it('replaces the secret when a device enrolls again, so the old one stops working at once', async () => {
    const { device, token } = await tokenFor();
    const first = await enrollment.enroll(token);
    expect(await credentials.verify(first.username, first.password)).toBeDefined();
    const { token: second } = await enrollment.createToken({ ...device, fleetGroup: 'line-b', ttlSeconds: 600 }, randomUUID());
    const again = await enrollment.enroll(second);
    expect(await credentials.verify(first.username, first.password)).toBeUndefined();
    expect(await credentials.verify(again.username, again.password)).toEqual({ ...device, fleetGroup: 'line-b' });
    expect(invalidated).toContainEqual(device);
  });

  it('revokes a device: its credentials stop working, its unused tokens die, and a new token brings it back', async () => {
    const { device, token } = await tokenFor();
    const enrolled = await enrollment.enroll(token);
    const { token: spare } = await enrollment.createToken({ ...device, fleetGroup: 'line-a', ttlSeconds: 600 }, randomUUID());
    invalidated.length = 0;

    const { revokedAt } = await enrollment.revoke(device);
    expect(revokedAt).toEqual(clock.now());
    expect(invalidated).toEqual([device]);
    expect(await credentials.verify(enrolled.username, enrolled.password)).toBeUndefined();
    expect(await refusal(enrollment.enroll(spare))).toBe('token-unknown');
    // Revoking twice keeps the first revocation's time.
    clock.at = new Date(clock.at.getTime() + 1_000);
    expect((await enrollment.revoke(device)).revokedAt).toEqual(revokedAt);

    const { token: fresh } = await enrollment.createToken({ ...device, fleetGroup: 'line-a', ttlSeconds: 600 }, randomUUID());
    const restored = await enrollment.enroll(fresh);
    expect(await credentials.verify(restored.username, restored.password)).toBeDefined();
    await expect(enrollment.revoke({ siteId: 'plant-7', deviceId: 'never-enrolled' })).rejects.toThrow(DeviceNotEnrolledError);
  });

  it("keeps a broker's own accounts in step: no token is spent and nothing is revoked while that broker is down", async () => {
    const calls: string[] = [];
    let brokerUp = false;
    const accounts: BrokerAccounts = {
      grantDevice: (device, password) => {
        if (!brokerUp) return Promise.reject(new Error('broker unreachable'));
        calls.push(`grant ${device.deviceId} ${password}`);
        return Promise.resolve();
      },
      removeDevice: (device) => {
        if (!brokerUp) return Promise.reject(new Error('broker unreachable'));
        calls.push(`remove ${device.deviceId}`);
        return Promise.resolve();
      },
    };
    const withBroker = new EnrollmentService(repository, credentials, clock, new IdentityMetrics(new Registry()), accounts);
    const { device, token } = await tokenFor();

    await expect(withBroker.enroll(token)).rejects.toThrow('broker unreachable');
    expect(await repository.activeCredential(device)).toBeUndefined();
    brokerUp = true;
    const enrolled = await withBroker.enroll(token);
    expect(calls).toEqual([`grant ${device.deviceId} ${enrolled.password}`]);

    brokerUp = false;
    await expect(withBroker.revoke(device)).rejects.toThrow('broker unreachable');
    expect(await credentials.verify(enrolled.username, enrolled.password)).toBeDefined();
    brokerUp = true;
    await withBroker.revoke(device);
    expect(calls).toEqual([`grant ${device.deviceId} ${enrolled.password}`, `remove ${device.deviceId}`]);
    expect(await credentials.verify(enrolled.username, enrolled.password)).toBeUndefined();
  });
});
