import { describe, expect, it } from 'vitest';
import { SessionExpiredError } from '../api/cloud-api';
import { claimOf, fakeCloud, refusal } from '../api/fake-cloud';
import { LabelingApi, UndoRefusedError } from './labeling-api';
import { LeaseExpiredError } from './lease';

const SAMPLE = '8d4a7c1e-3f7e-4f55-9b1a-3c2f0e1d2a4b';
const NEXT = '0b7a5c1e-3f7e-4f55-9b1a-3c2f0e1d2a4c';

describe('LabelingApi', () => {
  it('reads a claim checked against the contract', async () => {
    const api = new LabelingApi(fakeCloud({ status: 200, body: { claim: null, queueDepth: 0, doneToday: 12 } }).fetchFn);
    expect(await api.claim('p')).toEqual({ claim: null, queueDepth: 0, doneToday: 12 });
  });

  it('submits with claimNext and hands back the next claim from the same answer', async () => {
    const next = { claim: claimOf(NEXT), queueDepth: 4, doneToday: 3 };
    const cloud = fakeCloud({ status: 200, body: { state: 'open', next } });
    expect(await new LabelingApi(cloud.fetchFn).submit(SAMPLE, '7', { className: 'Defective' }, 1234.6)).toEqual({ state: 'open', next });
    expect(cloud.requests).toEqual([
      { method: 'POST', path: `/api/claims/${SAMPLE}/submit`, body: { token: '7', className: 'Defective', spentMs: 1235, claimNext: true } },
    ]);
  });

  it("submits a detection answer as the API's boxes", async () => {
    const cloud = fakeCloud({ status: 200, body: { state: 'done', next: { claim: null, queueDepth: 0, doneToday: 1 } } });
    const boxes = [{ className: 'bridge', x: 1, y: 2, width: 3, height: 4 }];
    await new LabelingApi(cloud.fetchFn).submit(SAMPLE, '7', { boxes }, 10);
    expect(cloud.requests[0]?.body).toEqual({ token: '7', boxes, spentMs: 10, claimNext: true });
  });

  it("reads the project's counters", async () => {
    const cloud = fakeCloud({ status: 200, body: { doneTodayInProject: 3, queueDepth: 9 } });
    expect(await new LabelingApi(cloud.fetchFn).progress('p')).toEqual({ doneTodayInProject: 3, queueDepth: 9 });
    expect(cloud.requests).toEqual([{ method: 'GET', path: '/api/projects/p/progress', body: undefined }]);
  });

  it('turns 401 into an expired session and 409 on a leased sample into an expired lease', async () => {
    await expect(new LabelingApi(fakeCloud(refusal(401, 'x')).fetchFn).claim('p')).rejects.toThrow(SessionExpiredError);
    const lost = () => new LabelingApi(fakeCloud(refusal(409, 'lease 7 has expired or belongs to someone else')).fetchFn);
    await expect(lost().submit('s', '1', { className: 'ok' }, 10)).rejects.toThrow(LeaseExpiredError);
    await expect(lost().skip('s', '1')).rejects.toThrow(LeaseExpiredError);
    await expect(lost().heartbeat('s', '1')).rejects.toThrow(LeaseExpiredError);
    await expect(lost().release('s', '1')).rejects.toThrow('went back to the queue');
  });

  it('releases a sample with its token', async () => {
    const cloud = fakeCloud({ status: 204 });
    await new LabelingApi(cloud.fetchFn).release(SAMPLE, '7');
    expect(cloud.requests).toEqual([{ method: 'POST', path: `/api/claims/${SAMPLE}/release`, body: { token: '7' } }]);
  });

  it('undoes an answer without a body and reads the sample claimed again', async () => {
    const cloud = fakeCloud({ status: 200, body: { claim: claimOf(SAMPLE), doneToday: 4 } });
    expect(await new LabelingApi(cloud.fetchFn).undo(SAMPLE)).toEqual({ claim: claimOf(SAMPLE), doneToday: 4 });
    expect(cloud.requests).toEqual([{ method: 'POST', path: `/api/claims/${SAMPLE}/undo`, body: undefined }]);
  });

  it("gives the cloud's own sentence when an answer cannot be undone", async () => {
    const tooOld = new LabelingApi(fakeCloud(refusal(409, 'This answer is too old to take back.')).fetchFn).undo(SAMPLE);
    await expect(tooOld).rejects.toThrow(UndoRefusedError);
    await expect(tooOld).rejects.toThrow(/^This answer is too old to take back\.$/);
    await expect(new LabelingApi(fakeCloud(refusal(404, 'You have no answer on this sample.')).fetchFn).undo(SAMPLE)).rejects.toThrow(
      /^You have no answer on this sample\.$/,
    );
  });

  it("passes on the cloud's message for other refusals", async () => {
    const api = new LabelingApi(fakeCloud(refusal(404, 'no project p')).fetchFn);
    await expect(api.claim('p')).rejects.toThrow('The cloud answered 404: no project p');
  });
});
