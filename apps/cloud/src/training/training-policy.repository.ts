import { Inject, Injectable } from '@nestjs/common';
import { trainingPolicySchema, type TrainingPolicyDto } from '@loupe/api-contracts';
import { Kysely, sql } from 'kysely';
import type { DB } from '../database/generated/database-types';

/** A project's policy, and what is needed to act on it. */
export interface ProjectPolicy {
  projectId: string;
  modelName: string;
  policy: TrainingPolicyDto;
  /** Who set the policy; null while the project has the defaults. */
  updatedBy: string | null;
}

/** What the triggers read of one project with a trigger, in one statement for all of them. */
export interface TriggerRow {
  projectId: string;
  everyNewLabels: number | null;
  everyHours: number | null;
  updatedBy: string;
  settledLabels: number;
  triggered: { at: Date; labels: number } | null;
}

// The default policy, as the contract fills it in.
const DEFAULTS = trainingPolicySchema.parse({});

/** training_policies: one row per project that set its own; the others have the defaults. */
@Injectable()
export class TrainingPolicyRepository {
  constructor(@Inject(Kysely) private readonly db: Kysely<DB>) {}

  /** undefined when there is no such project. */
  async find(projectId: string): Promise<ProjectPolicy | undefined> {
    const row = await this.db
      .selectFrom('projects as p')
      .leftJoin('training_policies as t', 't.project_id', 'p.id')
      .select(['p.id', 'p.model_name', 't.margin', 't.promotion', 't.every_new_labels', 't.every_hours', 't.fleet_group', 't.rollout_plan', 't.updated_by'])
      .where('p.id', '=', projectId)
      .executeTakeFirst();
    if (!row) return undefined;
    const base = { projectId: row.id, modelName: row.model_name };
    if (row.updated_by === null) return { ...base, policy: DEFAULTS, updatedBy: null };
    // Written from the same schema by put(); parsed so a reader never trusts a hand-edited row.
    const policy = trainingPolicySchema.parse({
      margin: row.margin,
      promotion: row.promotion,
      everyNewLabels: row.every_new_labels,
      everyHours: row.every_hours,
      fleetGroup: row.fleet_group,
      ...(row.rollout_plan === null ? {} : { rolloutPlan: row.rollout_plan }),
    });
    return { ...base, policy, updatedBy: row.updated_by };
  }

  /** Sets the project's policy; the triggers' record of their last run stays. */
  async put(projectId: string, policy: TrainingPolicyDto, userId: string): Promise<void> {
    const values = {
      margin: policy.margin,
      promotion: policy.promotion,
      every_new_labels: policy.everyNewLabels,
      every_hours: policy.everyHours,
      fleet_group: policy.fleetGroup,
      rollout_plan: policy.rolloutPlan === undefined ? null : JSON.stringify(policy.rolloutPlan),
      updated_by: userId,
      updated_at: sql<Date>`now()`,
    };
    await this.db
      .insertInto('training_policies')
      .values({ project_id: projectId, ...values })
      .onConflict((oc) => oc.column('project_id').doUpdateSet(values))
      .execute();
  }

  /**
   * Every project with a trigger, its settled labels now (an index-only
   * count on label_tasks' (project_id, state, sample_id)) and what the
   * triggers last did, with the database's clock.
   */
  async triggerRows(): Promise<{ now: Date; rows: TriggerRow[] }> {
    const rows = await this.db
      .selectFrom('training_policies as t')
      .select((eb) => [
        't.project_id',
        't.every_new_labels',
        't.every_hours',
        't.updated_by',
        't.triggered_at',
        't.triggered_labels',
        eb
          .selectFrom('label_tasks as l')
          .select(sql<number>`count(*)::int`.as('n'))
          .whereRef('l.project_id', '=', 't.project_id')
          .where('l.state', '=', sql.lit('done'))
          .as('settled'),
        sql<Date>`now()`.as('now'),
      ])
      .where((eb) => eb.or([eb('t.every_new_labels', 'is not', null), eb('t.every_hours', 'is not', null)]))
      .execute();
    const { now } = rows[0] ?? (await sql<{ now: Date }>`SELECT now() AS now`.execute(this.db)).rows[0]!;
    return {
      now,
      rows: rows.map((row) => ({
        projectId: row.project_id,
        everyNewLabels: row.every_new_labels,
        everyHours: row.every_hours,
        updatedBy: row.updated_by,
        settledLabels: row.settled ?? 0,
        triggered: row.triggered_at && { at: row.triggered_at, labels: row.triggered_labels },
      })),
    };
  }

  /**
   * Records that the triggers start a run now, at `settledLabels`, only if
   * no one recorded one since `seen` (the triggered_at the caller read): a
   * compare-and-set, so of several replicas that found the same project due
   * exactly one goes on to enqueue its run.
   */
  async claimTrigger(projectId: string, seen: Date | null, settledLabels: number): Promise<boolean> {
    const claimed = await this.db
      .updateTable('training_policies')
      .set({ triggered_at: sql<Date>`now()`, triggered_labels: settledLabels })
      .where('project_id', '=', projectId)
      .where(sql<boolean>`triggered_at IS NOT DISTINCT FROM ${seen}::timestamptz`)
      .returning('project_id')
      .executeTakeFirst();
    return claimed !== undefined;
  }
}
