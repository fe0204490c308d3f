import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInAsAdmin } from '../testing/sign-in';
import { startTestCloud, type TestCloud } from '../testing/test-cloud';

describe('the training policy and promotion routes', () => {
  let testCloud: TestCloud;
  let admin: RequestInit;
  let projectId: string;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${testCloud.cloud.httpUrl}${path}`, {
      method,
      headers: { ...(admin.headers as Record<string, string>), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    testCloud = await startTestCloud();
    admin = await signedInAsAdmin(testCloud.cloud.httpUrl);
    const created = await call('POST', '/api/projects', { name: 'caps', modelName: 'caps', task: 'classification', classes: ['ok', 'scratch'] });
    expect(created.status).toBe(201);
    projectId = created.body.id as string;
  }, 60_000);
  afterAll(() => testCloud?.stop());

  it('answers the defaults until a policy is set, then the policy as set', async () => {
    expect(await call('GET', `/api/projects/${projectId}/training-policy`)).toEqual({
      status: 200,
      body: { margin: 0.01, promotion: 'approval', everyNewLabels: null, everyHours: null, fleetGroup: 'default' },
    });
    const plan = { stages: [{ name: 'canary', devices: [], percent: 50, bakeSeconds: 60 }, { name: 'all', percent: 100, bakeSeconds: 0 }] };
    const policy = { margin: 0.03, promotion: 'auto-rollout', everyNewLabels: 25, everyHours: 6, fleetGroup: 'line-2', rolloutPlan: plan };
    expect(await call('PUT', `/api/projects/${projectId}/training-policy`, policy)).toEqual({ status: 200, body: policy });
    expect((await call('GET', `/api/projects/${projectId}/training-policy`)).body).toEqual(policy);
  });

  it('refuses a policy naming every field to fix, and a project that does not exist', async () => {
    const bad = await call('PUT', `/api/projects/${projectId}/training-policy`, { margin: 2, rolloutPlan: { stages: [{ name: 'half', percent: 50 }] } });
    expect(bad).toMatchObject({ status: 400, body: { message: expect.stringMatching(/margin/) as unknown } });
    const badPlan = await call('PUT', `/api/projects/${projectId}/training-policy`, { rolloutPlan: { stages: [{ name: 'half', percent: 50 }] } });
    expect(badPlan).toMatchObject({ status: 400, body: { message: expect.stringMatching(/the last stage must take 100%/) as unknown } });
    expect((await call('GET', `/api/projects/${randomUUID()}/training-policy`)).status).toBe(404);
    expect((await call('PUT', `/api/projects/${randomUUID()}/training-policy`, {})).status).toBe(404);
  });

  it('answers 404 for a run without a candidate, and 400 for a reason too long', async () => {
    expect((await call('POST', `/api/training-runs/${randomUUID()}/approve`, { reason: 'looks good' })).status).toBe(404);
    expect((await call('POST', `/api/training-runs/${randomUUID()}/reject`, { reason: 'x'.repeat(2_001) })).status).toBe(400);
    expect((await call('GET', `/api/training-runs/${randomUUID()}/promotion`)).status).toBe(404);
  });
});
