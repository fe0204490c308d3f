import { rolloutDetailSchema, rolloutListResponseSchema, rolloutSchema, type RolloutDetailDto, type RolloutDto } from '@loupe/api-contracts';
import { callCloud, translateRefusals } from '../api/cloud-api';
import type { RolloutCommand } from './rollout-commands';

/** The cloud refused a command in the rollout's present state; the message is the cloud's own. */
export class RolloutCommandRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RolloutCommandRefusedError';
  }
}

/** Staged rollouts of model versions; each answer checked against the shared contract. */
export class RolloutsApi {
  private readonly fetchFn: typeof fetch;

  constructor(fetchFn: typeof fetch) {
    this.fetchFn = fetchFn;
  }

  /** Newest first. */
  async list(): Promise<RolloutDto[]> {
    return (await callCloud(this.fetchFn, { method: 'GET', path: '/api/rollouts' }, rolloutListResponseSchema)).rollouts;
  }

  detail(rolloutId: string): Promise<RolloutDetailDto> {
    return callCloud(this.fetchFn, { method: 'GET', path: rolloutPath(rolloutId) }, rolloutDetailSchema);
  }

  /** Pause, resume, abort or promote; the reason goes into the rollout's audit log. */
  command(rolloutId: string, command: RolloutCommand, reason: string): Promise<RolloutDto> {
    const call = callCloud(this.fetchFn, { method: 'POST', path: `${rolloutPath(rolloutId)}/${command}`, body: { reason } }, rolloutSchema);
    // 409: the state moved on (another person, or the controller) since the page last looked.
    return translateRefusals(call, [409], (refusal) => new RolloutCommandRefusedError(refusal.reason ?? refusal.message));
  }
}

const rolloutPath = (rolloutId: string) => `/api/rollouts/${encodeURIComponent(rolloutId)}`;
