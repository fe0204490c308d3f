import { describe, expect, it } from 'vitest';
import { claimOf, fakeCloud, refusal } from '../api/fake-cloud';
import { LeaseExpiredError } from '../labeling/lease';
import { ReviewApi } from './review-api';

const SAMPLE = '8d4a7c1e-3f7e-4f55-9b1a-3c2f0e1d2a4b';

describe('ReviewApi', () => {
  it("claims the project's next disagreement with who answered what", async () => {
    const review = { ...claimOf(SAMPLE), answers: [{ labeler: 'Ana', className: 'Normal', spentMs: 900 }, { labeler: 'Bo', className: 'Defective', spentMs: 1200 }] };
    const cloud = fakeCloud({ status: 200, body: { review, reviewDepth: 3 } });
    expect(await new ReviewApi(cloud.fetchFn).claim('p')).toEqual({ review, reviewDepth: 3 });
    expect(cloud.requests).toEqual([{ method: 'POST', path: '/api/projects/p/reviews', body: {} }]);
  });

  it('reads an empty review queue', async () => {
    expect(await new ReviewApi(fakeCloud({ status: 200, body: { review: null, reviewDepth: 0 } }).fetchFn).claim('p')).toEqual({ review: null, reviewDepth: 0 });
  });

  it('decides with the lease token and the class', async () => {
    const cloud = fakeCloud({ status: 200, body: { state: 'done' } });
    await new ReviewApi(cloud.fetchFn).decide(SAMPLE, '7', 'Defective');
    expect(cloud.requests).toEqual([{ method: 'POST', path: `/api/reviews/${SAMPLE}/decide`, body: { token: '7', className: 'Defective' } }]);
  });

  it('turns 409 into an expired lease that says the disagreement went back', async () => {
    const lost = () => new ReviewApi(fakeCloud(refusal(409, 'lease 7 has expired or belongs to someone else')).fetchFn);
    await expect(lost().decide(SAMPLE, '7', 'Normal')).rejects.toThrow(LeaseExpiredError);
    await expect(lost().heartbeat(SAMPLE, '7')).rejects.toThrow('went back to the reviewers');
  });

  it('heartbeats and releases under /api/reviews', async () => {
    const cloud = fakeCloud({ status: 200, body: { expiresAt: '2030-01-01T00:02:00.000Z' } }, { status: 204 });
    const api = new ReviewApi(cloud.fetchFn);
    await api.heartbeat(SAMPLE, '7');
    await api.release(SAMPLE, '7');
    expect(cloud.requests.map((request) => request.path)).toEqual([`/api/reviews/${SAMPLE}/heartbeat`, `/api/reviews/${SAMPLE}/release`]);
  });
});
