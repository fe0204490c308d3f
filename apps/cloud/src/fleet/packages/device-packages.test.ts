import { createHash } from 'node:crypto';
import { enrollResponseSchema, type EnrollResponse } from '@loupe/api-contracts';
import { uniqueName } from '@loupe/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pcbAoiPackage } from '../../testing/model-packages';
import { signedInAsAdmin } from '../../testing/sign-in';
import { startTestCloud, type TestCloud } from '../../testing/test-cloud';

const basic = (device: EnrollResponse, password = device.password) => ({
  authorization: `Basic ${Buffer.from(`${device.username}:${password}`).toString('base64')}`,
});

interface Download {
  url: string;
  headers: Record<string, string>;
  packageBytes: Buffer;
}

/** What only one kind of store does. */
const onFolder = {
  title: "tags the package with its SHA-256, answers 416 past the end, and the whole package when If-Range names another package",
  async check({ url, headers, packageBytes }: Download) {
    const head = await fetch(url, { method: 'HEAD', headers });
    expect(head.headers.get('etag')).toBe(`"${createHash('sha256').update(packageBytes).digest('hex')}"`);
    const past = await fetch(url, { headers: { ...headers, range: `bytes=${packageBytes.length}-` } });
    expect({ status: past.status, range: past.headers.get('content-range') }).toEqual({ status: 416, range: `bytes */${packageBytes.length}` });
    const stale = await fetch(url, { headers: { ...headers, range: 'bytes=10-', 'if-range': '"another-package"' } });
    expect(stale.status).toBe(200);
    expect(Buffer.from(await stale.arrayBuffer())).toHaveLength(packageBytes.length);
  },
};
const onS3 = {
  title: 'redirects to a presigned URL valid 15 minutes, which S3 serves ranges from itself',
  async check({ url, headers }: Download) {
    const redirect = await fetch(url, { headers, redirect: 'manual' });
    expect(redirect.status).toBe(307);
    expect(redirect.headers.get('location')).toMatch(/models\/pcb-aoi\/1\/[0-9a-f]{64}\.tar\?.*X-Amz-Expires=900/);
  },
};

describe.each([
  { store: 'blob folder', s3: false, specific: onFolder },
  { store: 'S3', s3: true, specific: onS3 },
])('package downloads for devices, from the $store', ({ s3, specific }) => {
  let testCloud: TestCloud;
  let admin: Record<string, string>;
  let device: EnrollResponse;
  let packageBytes: Buffer;
  let url: string;

  async function enroll(): Promise<EnrollResponse> {
    const api = testCloud.cloud.httpUrl;
    const created = await fetch(`${api}/api/fleet/enrollment-tokens`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ siteId: 'plant-7', deviceId: uniqueName('aoi') }),
    });
    const { token } = (await created.json()) as { token: string };
    const enrolled = await fetch(`${api}/api/fleet/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    return enrollResponseSchema.parse(await enrolled.json());
  }

  beforeAll(async () => {
    testCloud = await startTestCloud({ s3 });
    admin = (await signedInAsAdmin(testCloud.cloud.httpUrl)).headers as Record<string, string>;
    packageBytes = await pcbAoiPackage(testCloud.dataDir, { signer: testCloud.publisher });
    const pushed = await fetch(`${testCloud.cloud.httpUrl}/api/models`, { method: 'POST', headers: { ...admin, 'content-type': 'application/x-tar' }, body: packageBytes });
    expect(pushed.status).toBe(201);
    // The registry signs what it stores, so the stored package is not the pushed one byte for byte.
    const stored = await fetch(`${testCloud.cloud.httpUrl}/api/models/pcb-aoi/versions/1/package`, { headers: admin });
    packageBytes = Buffer.from(await stored.arrayBuffer());
    device = await enroll();
    url = `${testCloud.cloud.httpUrl}/api/fleet/packages/pcb-aoi/1`;
  }, 60_000);
  afterAll(() => testCloud?.stop());

  it('serves the whole package, and the rest of it from the byte a cut download reached', async () => {
    const whole = await fetch(url, { headers: basic(device) });
    expect(whole.status).toBe(200);
    const body = Buffer.from(await whole.arrayBuffer());
    expect(body.equals(packageBytes)).toBe(true);
    expect({ length: whole.headers.get('content-length'), ranges: whole.headers.get('accept-ranges') }).toEqual({ length: String(body.length), ranges: 'bytes' });

    const cut = 1_000;
    const rest = await fetch(url, { headers: { ...basic(device), range: `bytes=${cut}-` } });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes ${cut}-${packageBytes.length - 1}/${packageBytes.length}`);
    expect(Buffer.from(await rest.arrayBuffer()).equals(packageBytes.subarray(cut))).toBe(true);
  });

  it(specific.title, () => specific.check({ url, headers: basic(device), packageBytes }));

  it('answers 401 without credentials, with a wrong secret, and once the device is revoked', async () => {
    const anonymous = await fetch(url);
    expect({ status: anonymous.status, challenge: anonymous.headers.get('www-authenticate') }).toEqual({
      status: 401,
      challenge: 'Basic realm="loupe devices", charset="UTF-8"',
    });
    expect((await fetch(url, { headers: basic(device, 'not-the-secret') })).status).toBe(401);
    // A person's session is not a device's credentials.
    expect((await fetch(url, { headers: admin })).status).toBe(401);

    const doomed = await enroll();
    const before = await fetch(url, { headers: basic(doomed), redirect: 'manual' });
    expect(before.status).toBe(s3 ? 307 : 200);
    await before.body?.cancel();
    const revoked = await fetch(`${testCloud.cloud.httpUrl}/api/fleet/devices/${doomed.siteId}/${doomed.deviceId}/revoke`, { method: 'POST', headers: admin });
    expect(revoked.status).toBe(200);
    const refused = await fetch(url, { headers: basic(doomed) });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { message: string }).message).toMatch(/wrong or were revoked/);
  });
});
