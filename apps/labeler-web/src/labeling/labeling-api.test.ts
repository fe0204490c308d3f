import { describe, expect, it } from 'vitest';
import { LabelingApi, LeaseExpiredError, SessionExpiredError } from './labeling-api';

const json = (status: number, body?: unknown) =>
  Promise.resolve(new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));

describe('LabelingApi', () => {
  it('reads a claim checked against the contract', async () => {
    const api = new LabelingApi(() => json(200, { claim: null, queueDepth: 0, doneToday: 12 }));
    expect(await api.claim('p')).toEqual({ claim: null, queueDepth: 0, doneToday: 12 });
  });

  it('turns 401 into an expired session and 409 into an expired lease', async () => {
    await expect(new LabelingApi(() => json(401, { statusCode: 401, error: 'unauthenticated', message: 'x' })).claim('p')).rejects.toThrow(SessionExpiredError);
    await expect(new LabelingApi(() => json(409, { statusCode: 409, error: 'conflict', message: 'x' })).submit('s', '1', 'ok', 10)).rejects.toThrow(LeaseExpiredError);
  });

  it("passes on the cloud's message for other refusals", async () => {
    const api = new LabelingApi(() => json(404, { statusCode: 404, error: 'not_found', message: 'no project p' }));
    await expect(api.claim('p')).rejects.toThrow('The cloud answered 404: no project p');
  });
});
