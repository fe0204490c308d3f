import type pg from 'pg';
import { Gauge, type Registry } from 'prom-client';

/**
 * How much work waits for labelers and reviewers, per project and task
 * state (open, leased, review, reviewing), counted in Postgres at every
 * scrape. Every replica reports the same figures: chart them with max(),
 * not sum(). Done tasks are left out; their count only grows.
 */
export function registerLabelingQueueGauge(registry: Registry, pool: pg.Pool): void {
  new Gauge({
    name: 'loupe_cloud_labeling_queue_tasks',
    help: 'Labeling tasks not yet done, by project and state (open, leased, review, reviewing), counted at scrape time; the same on every replica.',
    labelNames: ['project', 'state'] as const,
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ project: string; state: string; n: number }>(
        `SELECT p.name AS project, t.state, count(*)::int AS n
           FROM label_tasks t JOIN projects p ON p.id = t.project_id
          WHERE t.state <> 'done'
          GROUP BY p.name, t.state`,
      );
      this.reset();
      for (const row of rows) this.set({ project: row.project, state: row.state }, row.n);
    },
  });
}
