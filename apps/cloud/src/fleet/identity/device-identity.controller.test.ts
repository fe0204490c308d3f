import { enrollmentTokenSchema, enrollResponseSchema } from '@loupe/api-contracts';
import { uniqueName } from '@loupe/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInAsAdmin } from '../../testing/sign-in';
import { startTestCloud, type TestCloud } from '../../testing/test-cloud';

describe('device identity over REST', () => {
  let testCloud: TestCloud;
  let admin: Record<string, string>;

  beforeAll(async () => {
    testCloud = await startTestCloud();
    admin = (await signedInAsAdmin(testCloud.cloud.httpUrl)).headers as Record<string, string>;
  });
  afterAll(() => testCloud?.stop());

  async function call(method: string, path: string, { headers = {}, body }: { headers?: Record<string, string>; body?: unknown } = {}) {
    const response = await fetch(`${testCloud.cloud.httpUrl}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function newToken(deviceId = uniqueName('aoi')) {
    const created = await call('POST', '/api/fleet/enrollment-tokens', { headers: admin, body: { siteId: 'plant-7', deviceId } });
    expect(created.status).toBe(201);
    return enrollmentTokenSchema.parse(created.body);
  }

  it('shows a token once, with its expiry a day out by default, and enrolls the device with it', async () => {
    const before = Date.now();
    const token = await newToken();
    expect(token).toMatchObject({ siteId: 'plant-7', fleetGroup: 'default' });
    expect(Date.parse(token.expiresAt) - before).toBeGreaterThanOrEqual(24 * 3600 * 1000 - 1_000);

    const enrolled = await call('POST', '/api/fleet/enroll', { body: { token: token.token, siteId: 'plant-7', deviceId: token.deviceId } });
    expect(enrolled.status).toBe(200);
    expect(enrollResponseSchema.parse(enrolled.body)).toMatchObject({ siteId: 'plant-7', deviceId: token.deviceId, username: `plant-7/${token.deviceId}` });

    const again = await call('POST', '/api/fleet/enroll', { body: { token: token.token } });
    expect(again).toMatchObject({ status: 403, body: { error: 'token-used', message: expect.stringMatching(/used already.*new token/) as unknown } });
    expect((await call('POST', '/api/fleet/enroll', { body: { token: 'made-up' } })).body).toMatchObject({ error: 'token-unknown' });
  });

  it('says which fields of a token request to fix', async () => {
    const response = await call('POST', '/api/fleet/enrollment-tokens', { headers: admin, body: { siteId: 'plant/7', ttlSeconds: 5 } });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/siteId: siteId must be 1-64 letters.*deviceId: deviceId is required.*ttlSeconds: ttlSeconds must be at least 60/);
    expect((await call('POST', '/api/fleet/enroll', { body: {} })).status).toBe(400);
  });

  it('revokes a device, and answers 404 for one that never enrolled', async () => {
    const token = await newToken();
    await call('POST', '/api/fleet/enroll', { body: { token: token.token } });
    const revoked = await call('POST', `/api/fleet/devices/plant-7/${token.deviceId}/revoke`, { headers: admin });
    expect(revoked).toMatchObject({ status: 200, body: { siteId: 'plant-7', deviceId: token.deviceId } });
    expect((await call('POST', '/api/fleet/devices/plant-7/nobody/revoke', { headers: admin })).status).toBe(404);
    expect((await call('POST', '/api/fleet/devices/plant-7/bad%20id/revoke', { headers: admin })).status).toBe(400);
  });

  it('refuses to generate a Mosquitto configuration while the cloud has no broker account of its own', async () => {
    const response = await call('GET', '/api/fleet/mosquitto-config?directory=/etc/mosquitto/loupe', { headers: admin });
    expect(response).toMatchObject({ status: 409, body: { message: expect.stringContaining('set MQTT_USERNAME and MQTT_PASSWORD') as unknown } });
    expect((await call('GET', '/api/fleet/mosquitto-config?directory=relative/dir', { headers: admin })).status).toBe(400);
  });
});
