import type pg from 'pg';
import type { Logger } from 'pino';
import { inTransaction } from '../database/transaction';
import type { DesiredModel } from '../fleet/state/desired-model';
import type { DesiredModels } from '../fleet/state/desired-models';
import type { DesiredStatePublisher } from '../fleet/state/desired-state.publisher';
import type { DesiredStateRow, DeviceModelStates } from '../fleet/state/device-model-states';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { judgeCohorts, judgeShadow, type GateCheck } from './cohort-gates';
import { cohortsOf } from './cohort-stats';
import type { Leadership, LeaderLease } from './leader-lease';
import { LIVE_ROLLOUT_STATES, recordRolloutEvent, ROLLOUT_COLUMNS, toRolloutRecord, type RolloutRecord, type RolloutRow } from './rollout-records';

export const CONTROLLER = 'controller';

export interface RolloutControllerSettings {
  tickMs: number;
  /** How long a desired state may go unanswered before the leader sends it again. */
  republishAfterMs: number;
}

/**
 * Moves every live rollout forward, on exactly one replica: the one holding
 * the `rollouts` leader lease. All of its state is in Postgres and each pass
 * re-reads it, so a restarted or newly elected controller carries on where
 * the last one stopped. Each rollout advances in one transaction fenced by
 * the lease's term; the retained DesiredState messages go out after commit,
 * and whatever a device has not answered is sent again.
 */
export class RolloutController {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private leadership: Leadership | undefined;
  private lastRepublish = 0;
  private readonly models = new Map<string, DesiredModel>();
  private readonly log: Logger;

  constructor(
    private readonly pool: pg.Pool,
    private readonly lease: LeaderLease,
    private readonly states: DeviceModelStates,
    private readonly desiredModels: DesiredModels,
    private readonly publisher: DesiredStatePublisher,
    private readonly metrics: CloudMetrics,
    private readonly settings: RolloutControllerSettings,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'rollout-controller' });
  }

  start(): void {
    this.timer = setInterval(() => {
      this.pass ??= this.tick().finally(() => (this.pass = undefined));
    }, this.settings.tickMs);
  }

  /** Finishes the pass in progress and gives up the lease, so another replica takes over at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pass;
    if (this.leadership) await this.lease.release().catch((error: Error) => this.log.warn({ err: error.message }, 'could not release the leader lease'));
    this.leadership = undefined;
    this.metrics.rolloutLeader.set(0);
  }

  /** One pass: take or renew the lease, then advance each live rollout. */
  async tick(): Promise<void> {
    const started = performance.now();
    try {
      const leadership = await this.lease.acquire();
      if (!leadership) {
        if (this.leadership) this.log.warn({ term: this.leadership.term }, 'lost the rollout controller lease; another replica leads');
        this.leadership = undefined;
        this.metrics.rolloutLeader.set(0);
        return;
      }
      const takeover = this.leadership?.term !== leadership.term;
      if (takeover) this.log.info({ term: leadership.term, holder: leadership.holder }, 'leading the rollout controller');
      this.leadership = leadership;
      this.metrics.rolloutLeader.set(1);

      const { rows } = await this.pool.query<RolloutRow>(`SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE state = ANY($1) ORDER BY created_at`, [LIVE_ROLLOUT_STATES]);
      const republish = takeover || Date.now() - this.lastRepublish >= this.settings.republishAfterMs;
      for (const row of rows) {
        await this.advance(row, leadership);
        if (republish) await this.republish(row.id, takeover ? 0 : this.settings.republishAfterMs);
      }
      if (republish) this.lastRepublish = Date.now();
      await this.countRollouts();
    } catch (error) {
      this.log.error({ err: (error as Error).message }, 'rollout controller pass failed; retrying next tick');
    } finally {
      this.metrics.rolloutTickSeconds.observe((performance.now() - started) / 1_000);
    }
  }

  private async advance(row: RolloutRow, leadership: Leadership): Promise<void> {
    const outbox: DesiredStateRow[] = [];
    // Looked up before the transaction: it must not wait for a second connection while holding one.
    const models = { to: await this.modelOf(row.model_name, row.to_version), from: await this.modelOf(row.model_name, row.from_version) };
    await inTransaction(this.pool, async (client) => {
      if (!(await this.lease.fence(client, leadership))) return;
      const { rows } = await client.query<RolloutRow>(`SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE id = $1 FOR UPDATE`, [row.id]);
      const rollout = toRolloutRecord(rows[0]!);
      await this.syncDevices(client, rollout);
      if (rollout.state === 'running') await this.run(client, rollout, models, outbox);
      else if (rollout.state === 'rolling_back' || rollout.state === 'aborting') await this.revert(client, rollout, models.from, outbox);
    });
    if (outbox.length > 0) await this.publisher.publish(outbox);
  }

  /** Moves each asked device to what its latest report for the latest generation says. */
  private async syncDevices(client: pg.PoolClient, rollout: RolloutRecord): Promise<void> {
    const { rows } = await client.query<{ site_id: string; device_id: string; state: string; detail: string }>(
      `WITH observed AS (
         SELECT rd.site_id, rd.device_id, rd.state, COALESCE(s.reported->>'error', '') AS error,
           CASE
             WHEN s.reported_generation < s.desired_generation OR s.reported IS NULL THEN rd.state
             WHEN rd.state IN ('updating', 'active') AND s.reported->>'status' IN ('FAILED', 'ROLLED_BACK') THEN 'failed'
             WHEN rd.state = 'updating' AND s.reported->>'status' = 'ACTIVE'
                  AND s.reported->'active'->>'name' = $2 AND s.reported->'active'->>'version' = $3 THEN 'active'
             WHEN rd.state = 'reverting' AND s.reported->'active'->>'name' = $2 AND s.reported->'active'->>'version' = $4 THEN 'reverted'
             ELSE rd.state
           END AS next_state
         FROM rollout_devices rd JOIN device_model_states s ON s.site_id = rd.site_id AND s.device_id = rd.device_id
         WHERE rd.rollout_id = $1 AND rd.state IN ('updating', 'active', 'reverting')
         UNION ALL
         -- A broker under a burst can drop a ReportedState, and a box reports
         -- only on change; its telemetry, sent every period, names the model
         -- it runs, so a lost report costs one period, not the rollout.
         SELECT rd.site_id, rd.device_id, rd.state, '' AS error,
           CASE WHEN rd.state = 'updating' THEN 'active' ELSE 'reverted' END AS next_state
         FROM rollout_devices rd JOIN devices d ON d.site_id = rd.site_id AND d.id = rd.device_id
         WHERE rd.rollout_id = $1 AND d.last_seen_at > rd.updated_at AND d.model_name = $2
           AND ((rd.state = 'updating' AND d.model_version = $3) OR (rd.state = 'reverting' AND d.model_version = $4)))
       UPDATE rollout_devices rd SET state = o.next_state, detail = o.error, updated_at = now()
       -- A report of failure outweighs telemetry that the version runs.
       FROM (SELECT DISTINCT ON (site_id, device_id) * FROM observed WHERE next_state <> state
             ORDER BY site_id, device_id, next_state = 'failed' DESC) o
       WHERE rd.rollout_id = $1 AND rd.site_id = o.site_id AND rd.device_id = o.device_id
       RETURNING rd.site_id, rd.device_id, rd.state, rd.detail`,
      [rollout.id, rollout.modelName, String(rollout.toVersion), String(rollout.fromVersion)],
    );
    for (const row of rows.filter((r) => r.state === 'failed')) {
      this.log.warn({ rolloutId: rollout.id, siteId: row.site_id, deviceId: row.device_id, reason: row.detail }, 'device failed the new model');
    }
  }

  /** Registry versions never change once pushed, so each is looked up once. */
  private async modelOf(modelName: string, version: number): Promise<DesiredModel> {
    const key = `${modelName}\n${version}`;
    let model = this.models.get(key);
    if (!model) {
      model = await this.desiredModels.of(modelName, version);
      this.models.set(key, model);
    }
    return model;
  }

  private async run(client: pg.PoolClient, rollout: RolloutRecord, models: { to: DesiredModel; from: DesiredModel }, outbox: DesiredStateRow[]): Promise<void> {
    const { plan } = rollout;
    const counts = await this.countDevices(client, rollout);
    if (counts.failed > 0) {
      const { rows: failed } = await client.query<{ site_id: string; device_id: string; detail: string }>(
        `SELECT site_id, device_id, detail FROM rollout_devices WHERE rollout_id = $1 AND state = 'failed' ORDER BY site_id, device_id LIMIT 20`,
        [rollout.id],
      );
      const first = failed[0]!;
      await recordRolloutEvent(client, rollout.id, CONTROLLER, 'gate-failed', {
        stage: rollout.stage,
        gate: 'device-updates',
        devices: failed.map((d) => ({ device: `${d.site_id}/${d.device_id}`, reason: d.detail })),
      });
      this.metrics.rolloutGateVerdicts.inc({ verdict: 'fail' });
      await this.beginRevert(client, rollout, models.from, 'rolling_back', `${counts.failed} device(s) failed version ${rollout.toVersion}: ${first.site_id}/${first.device_id}: ${first.detail || 'no reason given'}`, outbox);
      return;
    }

    const { rows: late } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM rollout_devices WHERE rollout_id = $1 AND state = 'updating' AND updated_at < now() - $2 * interval '1 second'`,
      [rollout.id, plan.updateTimeoutSeconds],
    );
    if (late[0]!.n > 0) {
      await this.pause(client, rollout, `missing data: ${late[0]!.n} device(s) have not reported version ${rollout.toVersion} within ${plan.updateTimeoutSeconds}s`);
      return;
    }

    if (plan.gates.shadow) {
      const shadow = await this.shadowPhase(client, rollout);
      if (shadow.phase === 'not-started') return this.startShadow(client, rollout, models, outbox);
      if (shadow.phase === 'measuring') return this.judgeShadowPhase(client, rollout, shadow.seconds, models.from, outbox);
    }

    if (counts.pending > 0) {
      const room = plan.maxUpdating - counts.updating;
      if (room > 0) await this.dispatch(client, rollout, models.to, room, outbox);
      return;
    }
    if (counts.updating > 0) return;

    const { rows: bake } = await client.query<{ baked: number | null }>(
      `SELECT EXTRACT(EPOCH FROM now() - bake_started_at)::float8 AS baked FROM rollouts WHERE id = $1`,
      [rollout.id],
    );
    const baked = bake[0]!.baked;
    const stage = plan.stages[rollout.stage]!;
    if (baked === null) {
      await client.query(`UPDATE rollouts SET bake_started_at = now(), updated_at = now() WHERE id = $1`, [rollout.id]);
      await recordRolloutEvent(client, rollout.id, CONTROLLER, 'stage-baking', { stage: rollout.stage, name: stage.name, bakeSeconds: stage.bakeSeconds });
      return;
    }
    if (baked < stage.bakeSeconds) return;

    const cohorts = await cohortsOf(client, rollout, plan.gates);
    const verdict = judgeCohorts(cohorts.candidate, cohorts.baseline, plan.gates);
    if (verdict.verdict === 'no-data') {
      if (baked < stage.bakeSeconds + plan.gates.dataTimeoutSeconds) return;
      this.metrics.rolloutGateVerdicts.inc({ verdict: 'no-data' });
      await recordRolloutEvent(client, rollout.id, CONTROLLER, 'gate-no-data', { stage: rollout.stage, missing: verdict.missing, ...cohorts });
      await this.pause(client, rollout, `missing data: ${verdict.missing.join('; ')}`);
      return;
    }
    this.metrics.rolloutGateVerdicts.inc({ verdict: verdict.verdict });
    if (verdict.verdict === 'fail') {
      await recordRolloutEvent(client, rollout.id, CONTROLLER, 'gate-failed', { stage: rollout.stage, failed: verdict.failed, checks: verdict.checks, ...cohorts });
      await this.beginRevert(client, rollout, models.from, 'rolling_back', `gate failed at stage "${stage.name}": ${describeFailures(verdict.checks)}`, outbox);
      return;
    }
    await recordRolloutEvent(client, rollout.id, CONTROLLER, 'gate-passed', { stage: rollout.stage, checks: verdict.checks, ...cohorts });
    await completeStage(client, rollout, CONTROLLER);
    if (rollout.stage + 1 >= plan.stages.length) this.log.info({ rolloutId: rollout.id, model: rollout.modelName, version: rollout.toVersion }, 'rollout succeeded');
  }

  /** Where the shadow phase stands, from the audit log: it starts and passes once. */
  private async shadowPhase(client: pg.PoolClient, rollout: RolloutRecord): Promise<{ phase: 'not-started' | 'passed' } | { phase: 'measuring'; seconds: number }> {
    const { rows } = await client.query<{ action: string; seconds: number }>(
      `SELECT action, EXTRACT(EPOCH FROM now() - at)::float8 AS seconds FROM rollout_events
       WHERE rollout_id = $1 AND action IN ('shadow-started', 'shadow-passed')`,
      [rollout.id],
    );
    if (rows.some((row) => row.action === 'shadow-passed')) return { phase: 'passed' };
    const started = rows.find((row) => row.action === 'shadow-started');
    return started ? { phase: 'measuring', seconds: started.seconds } : { phase: 'not-started' };
  }

  /** Before any box serves the candidate: its disagreement with the active model, measured in shadow. */
  private async judgeShadowPhase(client: pg.PoolClient, rollout: RolloutRecord, seconds: number, from: DesiredModel, outbox: DesiredStateRow[]): Promise<void> {
    const { gates } = rollout.plan;
    const cohorts = await cohortsOf(client, rollout, gates);
    const verdict = judgeShadow(cohorts.baseline, gates);
    if (verdict.verdict === 'no-data') {
      if (seconds < gates.dataTimeoutSeconds) return;
      this.metrics.rolloutGateVerdicts.inc({ verdict: 'no-data' });
      await recordRolloutEvent(client, rollout.id, CONTROLLER, 'gate-no-data', { stage: rollout.stage, phase: 'shadow', missing: verdict.missing, ...cohorts });
      await this.pause(client, rollout, `missing data: ${verdict.missing.join('; ')}`);
      return;
    }
    this.metrics.rolloutGateVerdicts.inc({ verdict: verdict.verdict });
    if (verdict.verdict === 'fail') {
      await recordRolloutEvent(client, rollout.id, CONTROLLER, 'gate-failed', { stage: rollout.stage, phase: 'shadow', failed: verdict.failed, checks: verdict.checks, ...cohorts });
      await this.beginRevert(client, rollout, from, 'rolling_back', `gate failed in shadow: ${describeFailures(verdict.checks)}`, outbox);
      return;
    }
    await recordRolloutEvent(client, rollout.id, CONTROLLER, 'shadow-passed', { stage: rollout.stage, checks: verdict.checks, ...cohorts });
  }

  /**
   * Shadow gates: every box not yet asked keeps the old version active and
   * runs the candidate beside it, so its disagreement is measured on the
   * whole group's parts before any box serves it.
   */
  private async startShadow(client: pg.PoolClient, rollout: RolloutRecord, models: { to: DesiredModel; from: DesiredModel }, outbox: DesiredStateRow[]): Promise<void> {
    const { rows } = await client.query<{ site_id: string; device_id: string }>(
      `SELECT site_id, device_id FROM rollout_devices WHERE rollout_id = $1 AND state = 'pending'`,
      [rollout.id],
    );
    const devices = rows.map((row) => ({ siteId: row.site_id, deviceId: row.device_id }));
    outbox.push(...(await this.states.desire(client, devices, { model: models.from, shadow: models.to, rolloutId: rollout.id })));
    await recordRolloutEvent(client, rollout.id, CONTROLLER, 'shadow-started', { devices: devices.length, shadowVersion: rollout.toVersion });
  }

  private async dispatch(client: pg.PoolClient, rollout: RolloutRecord, model: DesiredModel, room: number, outbox: DesiredStateRow[]): Promise<void> {
    const { rows: picked } = await client.query<{ site_id: string; device_id: string }>(
      `UPDATE rollout_devices SET state = 'updating', updated_at = now()
       WHERE rollout_id = $1 AND (site_id, device_id) IN (
         SELECT site_id, device_id FROM rollout_devices
         WHERE rollout_id = $1 AND state = 'pending' AND stage <= $2 ORDER BY stage, site_id, device_id LIMIT $3)
       RETURNING site_id, device_id`,
      [rollout.id, rollout.stage, room],
    );
    const devices = picked.map((row) => ({ siteId: row.site_id, deviceId: row.device_id }));
    outbox.push(...(await this.states.desire(client, devices, { model, rolloutId: rollout.id })));
  }

  /** Starts taking every device the rollout touched back to the old version. */
  private async beginRevert(client: pg.PoolClient, rollout: RolloutRecord, from: DesiredModel, state: 'rolling_back' | 'aborting', reason: string, outbox: DesiredStateRow[]): Promise<void> {
    await client.query(`UPDATE rollouts SET state = $2, reason = $3, updated_at = now() WHERE id = $1`, [rollout.id, state, reason]);
    await recordRolloutEvent(client, rollout.id, CONTROLLER, state === 'aborting' ? 'abort-started' : 'rollback-started', { reason, toVersion: rollout.fromVersion });
    this.log.warn({ rolloutId: rollout.id, reason }, state === 'aborting' ? 'aborting rollout' : 'rolling back');
    await this.revert(client, { ...rollout, state, reason }, from, outbox);
  }

  /** Rollbacks ignore maxUpdating: a bad model should leave every box at once. */
  private async revert(client: pg.PoolClient, rollout: RolloutRecord, from: DesiredModel, outbox: DesiredStateRow[]): Promise<void> {
    const { rows: skipped } = await client.query<{ site_id: string; device_id: string }>(
      `UPDATE rollout_devices SET state = 'skipped', updated_at = now() WHERE rollout_id = $1 AND state = 'pending' RETURNING site_id, device_id`,
      [rollout.id],
    );
    if (rollout.plan.gates.shadow && skipped.length > 0) {
      // Boxes that only ran the candidate in shadow stop doing so.
      const devices = skipped.map((row) => ({ siteId: row.site_id, deviceId: row.device_id }));
      outbox.push(...(await this.states.desire(client, devices, { model: from, rolloutId: rollout.id })));
    }
    const { rows: picked } = await client.query<{ site_id: string; device_id: string }>(
      `UPDATE rollout_devices SET state = 'reverting', updated_at = now()
       WHERE rollout_id = $1 AND state IN ('updating', 'active', 'failed') RETURNING site_id, device_id`,
      [rollout.id],
    );
    if (picked.length > 0) {
      const devices = picked.map((row) => ({ siteId: row.site_id, deviceId: row.device_id }));
      outbox.push(...(await this.states.desire(client, devices, { model: from, rolloutId: rollout.id })));
      return;
    }
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM rollout_devices WHERE rollout_id = $1 AND state = 'reverting'`, [rollout.id]);
    if (rows[0]!.n > 0) return;
    const final = rollout.state === 'aborting' ? 'aborted' : 'rolled_back';
    await client.query(`UPDATE rollouts SET state = $2, updated_at = now() WHERE id = $1`, [rollout.id, final]);
    await recordRolloutEvent(client, rollout.id, CONTROLLER, final, { version: rollout.fromVersion });
    this.log.info({ rolloutId: rollout.id, state: final }, 'every device is back on the old version');
  }

  private async pause(client: pg.PoolClient, rollout: RolloutRecord, reason: string): Promise<void> {
    await client.query(`UPDATE rollouts SET state = 'paused', reason = $2, updated_at = now() WHERE id = $1`, [rollout.id, reason]);
    await recordRolloutEvent(client, rollout.id, CONTROLLER, 'paused', { reason });
    this.log.warn({ rolloutId: rollout.id, reason }, 'rollout paused; it waits for a person');
  }

  private async countDevices(client: pg.PoolClient, rollout: RolloutRecord): Promise<Record<'pending' | 'updating' | 'active' | 'failed', number>> {
    const { rows } = await client.query<{ state: string; n: number }>(
      `SELECT state, count(*)::int AS n FROM rollout_devices WHERE rollout_id = $1 AND (stage <= $2 OR state <> 'pending') GROUP BY state`,
      [rollout.id, rollout.stage],
    );
    const of = (state: string) => rows.find((row) => row.state === state)?.n ?? 0;
    return { pending: of('pending'), updating: of('updating'), active: of('active'), failed: of('failed') };
  }

  private async republish(rolloutId: string, olderThanMs: number): Promise<void> {
    const unanswered = await this.states.unanswered(rolloutId, olderThanMs);
    if (unanswered.length === 0) return;
    this.log.info({ rolloutId, devices: unanswered.length }, 'sending unanswered desired states again');
    await this.publisher.publish(unanswered);
  }

  private async countRollouts(): Promise<void> {
    const { rows } = await this.pool.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM rollouts GROUP BY state`);
    this.metrics.rollouts.reset();
    for (const row of rows) this.metrics.rollouts.set({ state: row.state }, row.n);
  }
}

/** Moves past the current stage (its gates passed, or a person promoted it); after the last one the rollout has succeeded. */
export async function completeStage(client: pg.PoolClient, rollout: RolloutRecord, actor: string): Promise<void> {
  const next = rollout.stage + 1;
  if (next >= rollout.plan.stages.length) {
    await client.query(`UPDATE rollouts SET state = 'succeeded', bake_started_at = NULL, updated_at = now() WHERE id = $1`, [rollout.id]);
    await recordRolloutEvent(client, rollout.id, actor, 'succeeded', { version: rollout.toVersion });
    return;
  }
  await client.query(`UPDATE rollouts SET stage = $2, bake_started_at = NULL, updated_at = now() WHERE id = $1`, [rollout.id, next]);
  await recordRolloutEvent(client, rollout.id, actor, 'stage-started', { stage: next, name: rollout.plan.stages[next]!.name });
}

function describeFailures(checks: GateCheck[]): string {
  return checks
    .filter((check) => !check.passed)
    .map((check) => `${check.gate} ${check.measured.toFixed(3)} > ${check.limit}`)
    .join(', ');
}
