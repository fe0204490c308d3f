const RECOUNT_INTERVAL_MS = 1_000;

/**
 * A count that costs more than a claim and that people only glance at: each
 * process counts a project at most once a second, one count at a time, and
 * serves the last count while the next is running.
 */
export class CachedCount {
  private readonly counts = new Map<string, { at: number; value: number }>();
  private readonly counting = new Map<string, Promise<number>>();

  constructor(
    private readonly count: (projectId: string) => Promise<number>,
    private readonly now: () => number = Date.now,
  ) {}

  get(projectId: string): Promise<number> {
    const cached = this.counts.get(projectId);
    if (cached && this.now() - cached.at < RECOUNT_INTERVAL_MS) return Promise.resolve(cached.value);
    let counting = this.counting.get(projectId);
    if (!counting) {
      counting = this.count(projectId)
        .then((value) => {
          this.counts.set(projectId, { at: this.now(), value });
          return value;
        })
        .finally(() => this.counting.delete(projectId));
      this.counting.set(projectId, counting);
    }
    if (!cached) return counting;
    // A failed recount leaves the last count in place until the next try.
    counting.catch(() => undefined);
    return Promise.resolve(cached.value);
  }

  /** Takes settled samples away from the count now rather than at the next recount. */
  subtract(projectId: string, amount: number): void {
    const cached = this.counts.get(projectId);
    if (cached) cached.value = Math.max(0, cached.value - amount);
  }
}
