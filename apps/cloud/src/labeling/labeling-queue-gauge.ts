import { Gauge, type Registry } from 'prom-client';
import type { LabelTaskRepository } from './label-task.repository';

/**
 * How much work waits for labelers and reviewers, per project and task
 * state (open, leased, review, reviewing), counted in Postgres at every
 * scrape. Every replica reports the same figures: chart them with max(),
 * not sum(). Done tasks are left out; their count only grows.
 */
export function registerLabelingQueueGauge(registry: Registry, tasks: LabelTaskRepository): void {
  new Gauge({
    name: 'loupe_cloud_labeling_queue_tasks',
    help: 'Labeling tasks not yet done, by project and state (open, leased, review, reviewing), counted at scrape time; the same on every replica.',
    labelNames: ['project', 'state'] as const,
    registers: [registry],
    async collect() {
      const rows = await tasks.notDone();
      this.reset();
      for (const row of rows) this.set({ project: row.project, state: row.state }, row.n);
    },
  });
}
