import { Inject, Injectable } from '@nestjs/common';
import type { TrainingPolicyDto } from '@loupe/api-contracts';
import { ProjectNotFoundError } from '../labeling/project.repository';
import { parseRolloutPlan } from '../rollouts/rollout-plan';
import { TrainingPolicyRepository } from './training-policy.repository';

/** Each project's training policy: when runs start and what becomes of their candidates. */
@Injectable()
export class TrainingPolicies {
  constructor(@Inject(TrainingPolicyRepository) private readonly repository: TrainingPolicyRepository) {}

  /** The project's policy, or the defaults when it never set one. */
  async get(projectId: string): Promise<TrainingPolicyDto> {
    const found = await this.repository.find(projectId);
    if (!found) throw new ProjectNotFoundError(projectId);
    return found.policy;
  }

  /**
   * Sets the policy. Its rollout plan is checked now, as `POST /api/rollouts`
   * checks one (400 naming every field), not when a candidate wins and its
   * canary cannot start.
   */
  async put(projectId: string, policy: TrainingPolicyDto, userId: string): Promise<TrainingPolicyDto> {
    if (policy.rolloutPlan !== undefined) parseRolloutPlan(policy.rolloutPlan);
    if (!(await this.repository.find(projectId))) throw new ProjectNotFoundError(projectId);
    await this.repository.put(projectId, policy, userId);
    return this.get(projectId);
  }
}
