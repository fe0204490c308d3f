const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export interface PastSelection {
  at: number;
  /** The predicted class (verdict) the per-class cap counts. */
  className: string;
  bytes: number;
}

/**
 * The selections accepted in the last 24 hours, oldest first: what the
 * budgets have spent. A selection stops counting against the hourly budgets
 * 60 minutes after it was made and against the daily bytes 24 hours after.
 * Holds at most a day of accepted selections, which the hourly budget bounds.
 */
export class SelectionHistory {
  private readonly selections: PastSelection[] = [];
  private bytesInDay = 0;

  record(selection: PastSelection): void {
    this.selections.push(selection);
    this.bytesInDay += selection.bytes;
  }

  lastHour(now: number): PastSelection[] {
    this.prune(now);
    const since = now - HOUR_MS;
    let first = this.selections.length;
    while (first > 0 && this.selections[first - 1]!.at > since) first--;
    return this.selections.slice(first);
  }

  bytesLastDay(now: number): number {
    this.prune(now);
    return this.bytesInDay;
  }

  private prune(now: number): void {
    const since = now - DAY_MS;
    let expired = 0;
    while (expired < this.selections.length && this.selections[expired]!.at <= since) {
      this.bytesInDay -= this.selections[expired]!.bytes;
      expired++;
    }
    this.selections.splice(0, expired);
  }
}
