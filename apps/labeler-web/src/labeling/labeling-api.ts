import {
  claimResponseSchema,
  projectProgressResponseSchema,
  submitResponseSchema,
  undoResponseSchema,
  type ClaimResponse,
  type ProjectProgressResponse,
  type SubmitRequest,
  type SubmitResponse,
  type UndoResponse,
} from '@loupe/api-contracts';
import { callCloud, translateRefusals } from '../api/cloud-api';
import { underLease } from './lease';

/** An answer as the labeler gives it: a class, or boxes (detection projects; none at all says there is nothing to mark). */
export type GivenAnswer = { className: string } | { boxes: NonNullable<SubmitRequest['boxes']> };

const LEASE_LOST = 'This sample was held too long and went back to the queue. Here is the next one.';

/** The cloud would not take the answer back; the message is its reason (too old, reviewed, held by someone else). */
export class UndoRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UndoRefusedError';
  }
}

/** The calls the queue screen makes, each checked against the shared contract. */
export class LabelingApi {
  private readonly fetchFn: typeof fetch;

  constructor(fetchFn: typeof fetch) {
    this.fetchFn = fetchFn;
  }

  claim(projectId: string): Promise<ClaimResponse> {
    return callCloud(this.fetchFn, { method: 'POST', path: `/api/projects/${projectId}/claims`, body: {} }, claimResponseSchema);
  }

  /** Your answers in the project today and its queue depth, for the counters. */
  progress(projectId: string): Promise<ProjectProgressResponse> {
    return callCloud(this.fetchFn, { method: 'GET', path: `/api/projects/${projectId}/progress` }, projectProgressResponseSchema);
  }

  /** Answers the sample and, in the same request, claims the next one of its project (`next`): one round trip per answer. */
  submit(sampleId: string, token: string, answer: GivenAnswer, spentMs: number): Promise<SubmitResponse> {
    const body: SubmitRequest = { token, ...answer, spentMs: Math.round(spentMs), claimNext: true };
    return underLease(callCloud(this.fetchFn, { method: 'POST', path: `/api/claims/${sampleId}/submit`, body }, submitResponseSchema), LEASE_LOST);
  }

  /** Takes back the caller's answer on the sample and leases it to them again. */
  undo(sampleId: string): Promise<UndoResponse> {
    const undone = callCloud(this.fetchFn, { method: 'POST', path: `/api/claims/${sampleId}/undo` }, undoResponseSchema);
    return translateRefusals(undone, [404, 409], (refusal) => new UndoRefusedError(refusal.reason ?? 'This answer can no longer be taken back.'));
  }

  skip(sampleId: string, token: string): Promise<void> {
    return this.onLease(sampleId, 'skip', token);
  }

  /** Gives the sample back for anyone to claim. */
  release(sampleId: string, token: string): Promise<void> {
    return this.onLease(sampleId, 'release', token);
  }

  heartbeat(sampleId: string, token: string): Promise<void> {
    return this.onLease(sampleId, 'heartbeat', token);
  }

  private onLease(sampleId: string, action: 'skip' | 'release' | 'heartbeat', token: string): Promise<void> {
    return underLease(callCloud(this.fetchFn, { method: 'POST', path: `/api/claims/${sampleId}/${action}`, body: { token } }), LEASE_LOST);
  }
}
