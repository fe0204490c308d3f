import { reviewClaimResponseSchema, type DecideRequest, type ReviewClaimResponse } from '@loupe/api-contracts';
import { callCloud } from '../api/cloud-api';
import { underLease } from '../labeling/lease';

const LEASE_LOST = 'This disagreement was held too long and went back to the reviewers. Here is the next one.';

/** The calls the review screen makes, each checked against the shared contract. */
export class ReviewApi {
  private readonly fetchFn: typeof fetch;

  constructor(fetchFn: typeof fetch) {
    this.fetchFn = fetchFn;
  }

  /** The next disagreement of the project, under a lease, or none. */
  claim(projectId: string): Promise<ReviewClaimResponse> {
    return callCloud(this.fetchFn, { method: 'POST', path: `/api/projects/${projectId}/reviews`, body: {} }, reviewClaimResponseSchema);
  }

  /** The final answer: settles the sample and ends the lease. */
  decide(sampleId: string, token: string, className: string): Promise<void> {
    const body: DecideRequest = { token, className };
    return this.onLease(sampleId, 'decide', body);
  }

  heartbeat(sampleId: string, token: string): Promise<void> {
    return this.onLease(sampleId, 'heartbeat', { token });
  }

  /** Gives the disagreement back for any reviewer to claim. */
  release(sampleId: string, token: string): Promise<void> {
    return this.onLease(sampleId, 'release', { token });
  }

  private onLease(sampleId: string, action: 'decide' | 'heartbeat' | 'release', body: { token: string }): Promise<void> {
    return underLease(callCloud(this.fetchFn, { method: 'POST', path: `/api/reviews/${sampleId}/${action}`, body }), LEASE_LOST);
  }
}
