import type { ReviewDto } from '@loupe/api-contracts';
import { Inject, Injectable } from '@nestjs/common';
import { LABELING_SETTINGS } from '../infrastructure.tokens';
import { CachedCount } from './cached-count';
import { LabelTaskRepository, toClaimedSample } from './label-task.repository';
import type { Answer, LabelingSettings } from './labeling-queue';
import { ReviewRepository } from './review.repository';
import { LeaseLostError, TaskLeases, type ClaimedSample, type LeaseHolder } from './task-leases';

/** One labeler's answer, as the reviewer sees it. */
export interface GivenAnswer {
  labeler: string;
  answer: Pick<ReviewDto['answers'][number], 'className' | 'boxes'>;
  spentMs: number;
}

export interface ClaimedReview extends ClaimedSample {
  answers: GivenAnswer[];
}

/**
 * The samples labelers disagreed on, for reviewers. A reviewer claims one
 * under a lease, as labelers do, and decides it: the decision is the
 * sample's label from then on.
 */
@Injectable()
export class ReviewQueue {
  private readonly leaseSeconds: number;
  private readonly leases: TaskLeases;
  private readonly depths: CachedCount;

  constructor(
    @Inject(ReviewRepository) private readonly reviews: ReviewRepository,
    @Inject(LabelTaskRepository) tasks: LabelTaskRepository,
    @Inject(LABELING_SETTINGS) settings: LabelingSettings,
    now: () => number = Date.now,
  ) {
    this.leaseSeconds = settings.leaseSeconds;
    this.leases = new TaskLeases(tasks, settings.leaseSeconds, now);
    this.depths = new CachedCount((projectId) => tasks.count(projectId, ['review', 'reviewing']), now);
  }

  /** The oldest most useful disagreement no one is reviewing, with the answers given, or undefined. */
  async claim(projectId: string, reviewerId: string): Promise<ClaimedReview | undefined> {
    await this.leases.returnExpired(projectId);
    const row = await this.reviews.claim(projectId, reviewerId, this.leaseSeconds);
    // Labels are written from validated answers: a class or boxes.
    return row && { ...toClaimedSample(row), answers: (row.answers ?? []) as GivenAnswer[] };
  }

  heartbeat(holder: LeaseHolder): Promise<Date> {
    return this.leases.heartbeat('reviewing', holder);
  }

  release(holder: LeaseHolder): Promise<void> {
    return this.leases.release('reviewing', holder);
  }

  /** Records the reviewer's answer as the sample's label and settles it, in one statement. */
  async decide(holder: LeaseHolder, answer: Omit<Answer, 'spentMs'>): Promise<'done'> {
    const projectId = await this.reviews.decide(holder, answer);
    if (projectId === undefined) throw new LeaseLostError(holder.sampleId);
    this.depths.subtract(projectId, 1);
    return 'done';
  }

  /** Disagreements waiting in the project, claimed ones included; counted at most once a second. */
  depth(projectId: string): Promise<number> {
    return this.depths.get(projectId);
  }
}
