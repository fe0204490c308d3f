import { Inject, Injectable } from '@nestjs/common';
import type { PromotionDecision } from '@loupe/api-contracts';
import { Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../database/generated/database-types';

export interface PromotionEvent {
  at: Date;
  actor: string;
  decision: PromotionDecision;
  reason: string;
  detail: Record<string, unknown>;
}

export interface Promotion {
  runId: string;
  projectId: string;
  modelName: string;
  version: number;
  decision: PromotionDecision;
  rolloutId: string | null;
  events: PromotionEvent[];
}

/** One decision as the audit log keeps it. */
export type DecisionRecord = Pick<PromotionEvent, 'actor' | 'decision' | 'reason' | 'detail'>;

/**
 * promotions (what became of each training run's candidate, now) and
 * promotion_events (every decision on it, with its numbers). A decision and
 * its event are written in one transaction.
 */
@Injectable()
export class PromotionRepository {
  constructor(@Inject(Kysely) private readonly db: Kysely<DB>) {}

  /** The first decision on a freshly pushed candidate. */
  async insert(promotion: Omit<Promotion, 'events' | 'decision'>, record: DecisionRecord): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('promotions')
        .values({
          run_id: promotion.runId,
          project_id: promotion.projectId,
          model_name: promotion.modelName,
          version: promotion.version,
          decision: record.decision,
          rollout_id: promotion.rolloutId,
        })
        .execute();
      await appendEvent(trx, promotion.runId, record);
    });
  }

  /**
   * Moves the candidate to `record.decision` only if its decision is still
   * one of `from`: a compare-and-set, so of two engineers approving and
   * rejecting at once exactly one wins, without a transaction held across
   * the rollout's own. false when the decision had moved on.
   */
  async move(runId: string, from: readonly PromotionDecision[], record: DecisionRecord & { rolloutId?: string }): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const moved = await trx
        .updateTable('promotions')
        .set({ decision: record.decision, updated_at: sql<Date>`now()`, ...(record.rolloutId === undefined ? {} : { rollout_id: record.rolloutId }) })
        .where('run_id', '=', runId)
        .where('decision', 'in', [...from])
        .returning('run_id')
        .executeTakeFirst();
      if (!moved) return false;
      await appendEvent(trx, runId, record);
      return true;
    });
  }

  async find(runId: string): Promise<Promotion | undefined> {
    const row = await this.db.selectFrom('promotions').selectAll().where('run_id', '=', runId).executeTakeFirst();
    if (!row) return undefined;
    const events = await this.db.selectFrom('promotion_events').select(['at', 'actor', 'decision', 'reason', 'detail']).where('run_id', '=', runId).orderBy('id').execute();
    return {
      runId: row.run_id,
      projectId: row.project_id,
      modelName: row.model_name,
      version: row.version,
      decision: row.decision as PromotionDecision,
      rolloutId: row.rollout_id,
      events: events.map((event) => ({ ...event, decision: event.decision as PromotionDecision, detail: event.detail as Record<string, unknown> })),
    };
  }
}

function appendEvent(trx: Transaction<DB>, runId: string, record: DecisionRecord) {
  return trx
    .insertInto('promotion_events')
    .values({ run_id: runId, actor: record.actor, decision: record.decision, reason: record.reason, detail: JSON.stringify(record.detail) })
    .execute();
}
