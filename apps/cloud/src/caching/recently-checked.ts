/**
 * Remembers what the database confirmed, for a short while, so a check made
 * on every request (a session, a device's credential) is not a query every
 * time. `forget` takes effect at once in this process, and also for lookups
 * still in flight: one that read the row before the change committed looks
 * again instead of remembering the stale answer. Only answers that exist
 * are remembered, so something created on another replica is found on its
 * first try.
 */
export class RecentlyChecked<Value> {
  private readonly remembered = new Map<string, { value: Value; until: number }>();
  // Bumped by every forget; a lookup that started before one starts over.
  private generation = 0;

  constructor(
    private readonly trustMs: number,
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The remembered value, or what `lookup` finds. `lookup` may say how long
   * its answer holds at most (a session's expiry).
   */
  async get(key: string, lookup: () => Promise<{ value: Value; validUntil?: number } | undefined>): Promise<Value | undefined> {
    const known = this.remembered.get(key);
    if (known && known.until > this.now()) return known.value;
    this.remembered.delete(key);
    for (;;) {
      const generation = this.generation;
      const found = await lookup();
      if (generation !== this.generation) continue;
      if (!found) return undefined;
      if (this.remembered.size >= this.capacity) this.remembered.delete(this.remembered.keys().next().value!);
      this.remembered.set(key, { value: found.value, until: Math.min(this.now() + this.trustMs, found.validUntil ?? Number.POSITIVE_INFINITY) });
      return found.value;
    }
  }

  /** Call after the change is committed. */
  forget(key: string): void {
    this.generation++;
    this.remembered.delete(key);
  }
}
