/**
 * The work a component has started and not yet finished, for a graceful
 * shutdown: close() stops it taking more, drain() waits for what it took.
 * Tracking handles no failure: tracked work that rejects, and whose owner
 * does not handle it, is an unhandled rejection as it would be untracked.
 */
export class InFlight {
  private readonly work = new Set<Promise<unknown>>();
  private open = true;

  /** False once closed: new work should be refused or left alone. */
  get accepting(): boolean {
    return this.open;
  }

  get size(): number {
    return this.work.size;
  }

  /** Tracks `work` until it settles; the promise returned settles as `work` does. */
  track<T>(work: Promise<T>): Promise<T> {
    const tracked = work.finally(() => this.work.delete(tracked));
    this.work.add(tracked);
    return tracked;
  }

  /** Stops accepting; work already tracked goes on. */
  close(): void {
    this.open = false;
  }

  /**
   * Closes, then waits until every tracked piece of work has settled, work
   * tracked meanwhile included, or `timeoutMs` passed. True when all of it
   * finished in time.
   */
  async drain(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    this.close();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      while (this.work.size > 0) {
        const finished = await Promise.race([Promise.allSettled([...this.work]).then(() => true as const), timedOut]);
        if (!finished) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}
