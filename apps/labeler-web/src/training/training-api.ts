import {
  promotionSchema,
  trainingPolicySchema,
  trainingRunListResponseSchema,
  trainingRunSchema,
  type StartTrainingRunRequest,
  type TrainingPolicyDto,
  type TrainingRunDto,
} from '@loupe/api-contracts';
import { callCloud, translateRefusals } from '../api/cloud-api';

/** What an engineer decides about a candidate that awaits approval. */
export type TrainingDecision = 'approve' | 'reject';

/**
 * The cloud turned a training request down (a bad policy field, a run no
 * longer awaiting approval, no labels to train on); the message is its own.
 */
export class TrainingRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingRefusedError';
  }
}

// 400: a field the cloud does not accept; 409: the run or project moved on since the page looked.
const REFUSALS = [400, 409];
const refused = <T>(call: Promise<T>) => translateRefusals(call, REFUSALS, (refusal) => new TrainingRefusedError(refusal.reason ?? refusal.message));

/** A project's training runs and promotion policy; each answer checked against the shared contract. */
export class TrainingApi {
  private readonly fetchFn: typeof fetch;

  constructor(fetchFn: typeof fetch) {
    this.fetchFn = fetchFn;
  }

  /** The project's runs, as the cloud orders them. */
  async runs(projectId: string): Promise<TrainingRunDto[]> {
    return (await callCloud(this.fetchFn, { method: 'GET', path: `${projectPath(projectId)}/training-runs` }, trainingRunListResponseSchema)).runs;
  }

  start(projectId: string, request: StartTrainingRunRequest = {}): Promise<TrainingRunDto> {
    return refused(callCloud(this.fetchFn, { method: 'POST', path: `${projectPath(projectId)}/training-runs`, body: request }, trainingRunSchema));
  }

  /** Stops a queued or running run; a finished one is refused with the cloud's reason. */
  cancel(runId: string): Promise<TrainingRunDto> {
    return refused(callCloud(this.fetchFn, { method: 'POST', path: `${runPath(runId)}/cancel` }, trainingRunSchema));
  }

  /** Approving starts the candidate's rollout; the reason goes into the audit log either way. */
  async decide(runId: string, decision: TrainingDecision, reason: string): Promise<TrainingRunDto> {
    // The cloud answers with the candidate's promotion; the page shows runs, so it reads the run as it now stands.
    await refused(callCloud(this.fetchFn, { method: 'POST', path: `${runPath(runId)}/${decision}`, body: { reason } }, promotionSchema));
    return callCloud(this.fetchFn, { method: 'GET', path: runPath(runId) }, trainingRunSchema);
  }

  policy(projectId: string): Promise<TrainingPolicyDto> {
    return callCloud(this.fetchFn, { method: 'GET', path: `${projectPath(projectId)}/training-policy` }, trainingPolicySchema);
  }

  savePolicy(projectId: string, policy: TrainingPolicyDto): Promise<TrainingPolicyDto> {
    return refused(callCloud(this.fetchFn, { method: 'PUT', path: `${projectPath(projectId)}/training-policy`, body: policy }, trainingPolicySchema));
  }
}

const projectPath = (projectId: string) => `/api/projects/${encodeURIComponent(projectId)}`;
const runPath = (runId: string) => `/api/training-runs/${encodeURIComponent(runId)}`;
