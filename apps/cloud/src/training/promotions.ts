import { Inject, Injectable } from '@nestjs/common';
import type { EvaluationDto, PromotionDecision, TrainingPolicyDto } from '@loupe/api-contracts';
import { DomainError } from '@loupe/service';
import type { Logger } from 'pino';
import { LOGGER } from '../infrastructure.tokens';
import { ProjectNotFoundError } from '../labeling/project.repository';
import { Rollouts } from '../rollouts/rollouts';
import { PromotionConflictError, PromotionNotFoundError } from './promotion.errors';
import { decidePromotion, planPromotionCommand, type PromotionCommand } from './promotion-planner';
import { PromotionRepository, type Promotion } from './promotion.repository';
import { TrainingPolicyRepository, type ProjectPolicy } from './training-policy.repository';

/** The actor of every decision the project's policy takes on its own. */
export const POLICY = 'policy';

/**
 * A promoted candidate's rollout when the project names no plan: a tenth of
 * the fleet group (at least one box) as the canary, then all of it, with the
 * default gates.
 */
export const DEFAULT_PROMOTION_PLAN = {
  stages: [
    { name: 'canary', percent: 10, bakeSeconds: 600 },
    { name: 'all', percent: 100, bakeSeconds: 0 },
  ],
};

/** A freshly pushed candidate, with what its decision is taken on. */
export interface DecisionInput {
  runId: string;
  projectId: string;
  modelName: string;
  version: number;
  challenger: EvaluationDto;
  champion: (EvaluationDto & { version: number }) | null;
}

export interface Person {
  id: string;
  email: string;
}

/**
 * What becomes of training runs' candidates: the policy's decision when one
 * is pushed (decidePromotion), and an engineer's approval or rejection after.
 * A decision that starts a rollout starts it through Rollouts, like a
 * person's `POST /api/rollouts`, with the project's plan and gates; every
 * decision lands in promotion_events with its numbers.
 */
@Injectable()
export class Promotions {
  private readonly log: Logger;

  constructor(
    @Inject(PromotionRepository) private readonly repository: PromotionRepository,
    @Inject(TrainingPolicyRepository) private readonly policies: TrainingPolicyRepository,
    @Inject(Rollouts) private readonly rollouts: Rollouts,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'promotions' });
  }

  async decide(input: DecisionInput): Promise<{ decision: PromotionDecision; rolloutId: string | null }> {
    const { policy, updatedBy } = await this.policyOf(input.projectId);
    const verdict = decidePromotion({ ...input, policy });
    let { decision, reason } = verdict;
    let rolloutId: string | null = null;
    if (decision === 'rollout-started') {
      // The canary starts before the decision is written: a decision that says
      // "rollout started" is never left without its rollout.
      // A rollout the policy starts is on behalf of the user who set the policy.
      const started = await this.startRollout({ ...input, policy }, updatedBy).catch((error: unknown) => refusal(error));
      if (typeof started === 'string') {
        rolloutId = started;
      } else {
        decision = 'awaiting-approval';
        reason = `${reason}, but it could not start: ${started.message}; it waits for an engineer`;
      }
    }
    const { runId, projectId, modelName, version } = input;
    await this.repository.insert({ runId, projectId, modelName, version, rolloutId }, { actor: POLICY, decision, reason, detail: { ...verdict.comparison, rolloutId } });
    this.log.info({ runId, modelName, version, decision, rolloutId, ...verdict.comparison }, 'candidate decided');
    return { decision, rolloutId };
  }

  find(runId: string): Promise<Promotion | undefined> {
    return this.repository.find(runId);
  }

  async show(runId: string): Promise<Promotion> {
    const promotion = await this.repository.find(runId);
    if (!promotion) throw new PromotionNotFoundError(runId);
    return promotion;
  }

  /**
   * Starts the candidate's canary with the project's plan, then records the
   * approval. Two engineers approving at once: the second rollout is refused
   * (one live rollout per model and group). Approved while someone rejected:
   * the rejection stands and the rollout just started is aborted.
   */
  async approve(runId: string, by: Person, reason: string): Promise<Promotion> {
    const promotion = await this.commandable(runId, 'approve');
    const { policy } = await this.policyOf(promotion.projectId);
    const rolloutId = await this.startRollout({ ...promotion, policy }, by.id);
    const detail = { rolloutId, fleetGroup: policy.fleetGroup };
    const moved = await this.repository.move(runId, FROM_AWAITING, { actor: by.email, decision: 'approved', reason, detail, rolloutId });
    if (!moved) {
      await this.rollouts.command(rolloutId, 'abort', by.id, `candidate of training run ${runId} was decided on meanwhile`);
      throw new PromotionConflictError(`the candidate of training run ${runId} was decided on meanwhile; rollout ${rolloutId} was aborted`);
    }
    return this.show(runId);
  }

  async reject(runId: string, by: Person, reason: string): Promise<Promotion> {
    await this.commandable(runId, 'reject');
    const moved = await this.repository.move(runId, FROM_AWAITING, { actor: by.email, decision: 'rejected', reason, detail: {} });
    if (!moved) throw new PromotionConflictError(`the candidate of training run ${runId} was decided on meanwhile`);
    return this.show(runId);
  }

  private async policyOf(projectId: string): Promise<ProjectPolicy> {
    const found = await this.policies.find(projectId);
    if (!found) throw new ProjectNotFoundError(projectId);
    return found;
  }

  private async commandable(runId: string, command: PromotionCommand): Promise<Promotion> {
    const promotion = await this.show(runId);
    const planned = planPromotionCommand(promotion.decision, command);
    if ('refused' in planned) throw new PromotionConflictError(planned.refused);
    return promotion;
  }

  private async startRollout(candidate: { modelName: string; version: number; policy: TrainingPolicyDto }, actorId: string | null): Promise<string> {
    if (actorId === null) throw new PromotionConflictError('no one set this project\'s policy, so no one can start its rollout');
    const { policy } = candidate;
    const rollout = await this.rollouts.start(
      { modelName: candidate.modelName, version: candidate.version, fleetGroup: policy.fleetGroup, plan: policy.rolloutPlan ?? DEFAULT_PROMOTION_PLAN },
      actorId,
    );
    return rollout.id;
  }
}

const FROM_AWAITING: readonly PromotionDecision[] = ['awaiting-approval', 'first-model'];

/** A rollout the cloud refused (no devices, nothing to return to, one live already) is a reason; anything else is a failure. */
function refusal(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  throw error;
}
