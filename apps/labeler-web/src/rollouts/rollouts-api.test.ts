import { describe, expect, it } from 'vitest';
import { CloudRefusedError, SessionExpiredError } from '../api/cloud-api';
import { fakeCloud, refusal } from '../api/fake-cloud';
import { exampleDetail, exampleRollout, ROLLOUT_ID } from './example-rollout';
import { RolloutCommandRefusedError, RolloutsApi } from './rollouts-api';

describe('RolloutsApi', () => {
  it('lists the rollouts newest first, as the cloud sent them', async () => {
    const older = { ...exampleRollout, id: 'c3d0a1b2-0000-4000-8000-000000000000', createdAt: '2026-11-01T00:00:00.000Z' };
    const cloud = fakeCloud({ status: 200, body: { rollouts: [exampleRollout, older] } });
    expect(await new RolloutsApi(cloud.fetchFn).list()).toEqual([exampleRollout, older]);
    expect(cloud.requests).toEqual([{ method: 'GET', path: '/api/rollouts', body: undefined }]);
  });

  it('reads one rollout with its devices, both cohorts, the gates and the audit log', async () => {
    const cloud = fakeCloud({ status: 200, body: exampleDetail });
    expect(await new RolloutsApi(cloud.fetchFn).detail(ROLLOUT_ID)).toEqual(exampleDetail);
    expect(cloud.requests).toEqual([{ method: 'GET', path: `/api/rollouts/${ROLLOUT_ID}`, body: undefined }]);
  });

  it('sends a command with its reason', async () => {
    const cloud = fakeCloud({ status: 200, body: { ...exampleRollout, state: 'paused', reason: 'line 3 is down for maintenance' } });
    const paused = await new RolloutsApi(cloud.fetchFn).command(ROLLOUT_ID, 'pause', 'line 3 is down for maintenance');
    expect(paused.state).toBe('paused');
    expect(cloud.requests).toEqual([{ method: 'POST', path: `/api/rollouts/${ROLLOUT_ID}/pause`, body: { reason: 'line 3 is down for maintenance' } }]);
  });

  it("shows the cloud's reason when the rollout's state does not allow the command", async () => {
    const refused = new RolloutsApi(fakeCloud(refusal(409, `rollout ${ROLLOUT_ID} is succeeded; pause needs it running`)).fetchFn).command(ROLLOUT_ID, 'pause', 'why not');
    await expect(refused).rejects.toThrow(RolloutCommandRefusedError);
    await expect(refused).rejects.toThrow(`rollout ${ROLLOUT_ID} is succeeded; pause needs it running`);
  });

  it('keeps other refusals as they are, and 401 as an expired session', async () => {
    await expect(new RolloutsApi(fakeCloud(refusal(404, 'no rollout x')).fetchFn).detail('x')).rejects.toThrow(CloudRefusedError);
    await expect(new RolloutsApi(fakeCloud(refusal(401, 'sign in first')).fetchFn).list()).rejects.toThrow(SessionExpiredError);
  });

  it('refuses an answer the contract does not allow, such as a state it does not know', async () => {
    const unknownState = { ...exampleDetail, state: 'exploded' };
    await expect(new RolloutsApi(fakeCloud({ status: 200, body: unknownState }).fetchFn).detail(ROLLOUT_ID)).rejects.toThrow('does not understand');
  });
});
