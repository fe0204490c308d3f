import { claimResponseSchema } from '@loupe/api-contracts';
import { describe, expect, it } from 'vitest';
import { callCloud, CloudRefusedError, SessionExpiredError, translateRefusals } from './cloud-api';
import { fakeCloud, refusal } from './fake-cloud';

const claims = { method: 'POST', path: '/api/projects/p/claims', body: {} } as const;

describe('calling the cloud', () => {
  it('sends JSON and reads an answer checked against the contract', async () => {
    const cloud = fakeCloud({ status: 200, body: { claim: null, queueDepth: 0, doneToday: 12 } });
    expect(await callCloud(cloud.fetchFn, claims, claimResponseSchema)).toEqual({ claim: null, queueDepth: 0, doneToday: 12 });
    expect(cloud.requests).toEqual([{ method: 'POST', path: '/api/projects/p/claims', body: {} }]);
  });

  it('turns 401 into an expired session', async () => {
    await expect(callCloud(fakeCloud(refusal(401, 'sign in first')).fetchFn, claims)).rejects.toThrow(SessionExpiredError);
  });

  it("keeps the cloud's reason and status for other refusals", async () => {
    const refused = callCloud(fakeCloud(refusal(404, 'no project p')).fetchFn, claims);
    await expect(refused).rejects.toThrow('The cloud answered 404: no project p');
    await expect(refused).rejects.toMatchObject({ status: 404, reason: 'no project p' });
    await expect(callCloud(fakeCloud({ status: 502 }).fetchFn, claims)).rejects.toThrow('The cloud answered 502.');
  });

  it('says so when the cloud cannot be reached or sends what the contract does not allow', async () => {
    await expect(callCloud(() => Promise.reject(new TypeError('fetch failed')), claims)).rejects.toThrow('Cannot reach the cloud');
    await expect(callCloud(fakeCloud({ status: 200, body: { claim: 'x' } }).fetchFn, claims, claimResponseSchema)).rejects.toThrow('does not understand');
  });
});

describe('translating refusals', () => {
  it('rethrows only the listed statuses as the caller’s own error', async () => {
    const translate = (status: number) =>
      translateRefusals(Promise.reject(new CloudRefusedError(status, 'taken')), [409], (refused) => new RangeError(refused.reason));
    await expect(translate(409)).rejects.toThrow(RangeError);
    await expect(translate(409)).rejects.toThrow('taken');
    await expect(translate(404)).rejects.toThrow(CloudRefusedError);
  });
});
