import { describe, expect, it } from 'vitest';
import { CloudRefusedError, SessionExpiredError } from '../api/cloud-api';
import { fakeCloud, refusal } from '../api/fake-cloud';
import { exampleRun, PROJECT_ID, RUN_ID, runningRun } from './example-training-run';
import { TrainingApi, TrainingRefusedError } from './training-api';

const POLICY = { margin: 0.02, promotion: 'approval', everyNewLabels: 50, everyHours: null, fleetGroup: 'line-3' } as const;

describe('TrainingApi', () => {
  it("lists a project's runs as the cloud sent them", async () => {
    const cloud = fakeCloud({ status: 200, body: { runs: [runningRun, exampleRun] } });
    expect(await new TrainingApi(cloud.fetchFn).runs(PROJECT_ID)).toEqual([runningRun, exampleRun]);
    expect(cloud.requests).toEqual([{ method: 'GET', path: `/api/projects/${PROJECT_ID}/training-runs`, body: undefined }]);
  });

  it('starts a run with the default backbone and recipe', async () => {
    const cloud = fakeCloud({ status: 201, body: { ...runningRun, state: 'queued', progress: null } });
    expect((await new TrainingApi(cloud.fetchFn).start(PROJECT_ID)).state).toBe('queued');
    expect(cloud.requests).toEqual([{ method: 'POST', path: `/api/projects/${PROJECT_ID}/training-runs`, body: {} }]);
  });

  it('approves, rejects and cancels a run, sending the reason for the audit log', async () => {
    // A decision is answered with the candidate's promotion; the page then reads the run.
    const promotion = (decision: string) => ({ status: 200, body: { runId: RUN_ID, modelName: 'pcb-aoi', version: 2, decision, rolloutId: null, events: [] } });
    const cloud = fakeCloud(
      promotion('approved'),
      { status: 200, body: { ...exampleRun, decision: 'approved' } },
      promotion('rejected'),
      { status: 200, body: exampleRun },
      { status: 200, body: exampleRun },
    );
    const api = new TrainingApi(cloud.fetchFn);
    expect((await api.decide(RUN_ID, 'approve', 'beats v1 on shorts')).decision).toBe('approved');
    await api.decide(RUN_ID, 'reject', '');
    await api.cancel(RUN_ID);
    expect(cloud.requests).toEqual([
      { method: 'POST', path: `/api/training-runs/${RUN_ID}/approve`, body: { reason: 'beats v1 on shorts' } },
      { method: 'GET', path: `/api/training-runs/${RUN_ID}`, body: undefined },
      { method: 'POST', path: `/api/training-runs/${RUN_ID}/reject`, body: { reason: '' } },
      { method: 'GET', path: `/api/training-runs/${RUN_ID}`, body: undefined },
      { method: 'POST', path: `/api/training-runs/${RUN_ID}/cancel`, body: undefined },
    ]);
  });

  it('reads and replaces the promotion policy', async () => {
    const cloud = fakeCloud({ status: 200, body: POLICY }, { status: 200, body: { ...POLICY, margin: 0.05 } });
    const api = new TrainingApi(cloud.fetchFn);
    expect(await api.policy(PROJECT_ID)).toEqual(POLICY);
    expect((await api.savePolicy(PROJECT_ID, { ...POLICY, margin: 0.05 })).margin).toBe(0.05);
    expect(cloud.requests[1]).toEqual({ method: 'PUT', path: `/api/projects/${PROJECT_ID}/training-policy`, body: { ...POLICY, margin: 0.05 } });
  });

  it("says in the cloud's words why it refused a decision or a policy", async () => {
    const decided = new TrainingApi(fakeCloud(refusal(409, 'the run was rejected already')).fetchFn).decide(RUN_ID, 'approve', '');
    await expect(decided).rejects.toThrow(TrainingRefusedError);
    await expect(decided).rejects.toThrow('the run was rejected already');
    await expect(new TrainingApi(fakeCloud(refusal(400, 'margin must be at most 1')).fetchFn).savePolicy(PROJECT_ID, POLICY)).rejects.toThrow('margin must be at most 1');
  });

  it('keeps other refusals as they are, 401 as an expired session, and refuses a run state the contract does not know', async () => {
    await expect(new TrainingApi(fakeCloud(refusal(403, 'engineers only')).fetchFn).start(PROJECT_ID)).rejects.toThrow(CloudRefusedError);
    await expect(new TrainingApi(fakeCloud(refusal(401, 'sign in')).fetchFn).runs(PROJECT_ID)).rejects.toThrow(SessionExpiredError);
    const odd = fakeCloud({ status: 200, body: { runs: [{ ...exampleRun, state: 'exploded' }] } });
    await expect(new TrainingApi(odd.fetchFn).runs(PROJECT_ID)).rejects.toThrow('does not understand');
  });
});
