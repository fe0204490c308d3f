export interface GroupCommitSettings {
  /** Items in one commit at most. */
  maxGroup: number;
  /** Commits running at once at most: each holds a connection, and the server works on them side by side. */
  concurrency: number;
  /**
   * Whether a failed group is worth trying again item by item: true (the
   * default) for an error one item can cause, false for one that fails them
   * all alike (the database unreachable), which then fails the group at once.
   */
  retryAlone?: (error: unknown) => boolean;
  /**
   * Whether a commit waits for the rest of the current turn of the event
   * loop (setImmediate) before it starts, so that what is added in one turn
   * goes together even to an idle committer. For work that costs little to
   * hold back a moment and much to repeat per item, such as one message per
   * device. Off by default: a lone item then commits at once.
   */
  gatherOneTurn?: boolean;
}

interface Waiting<Item, Result> {
  item: Item;
  done: (result: Result) => void;
  failed: (error: unknown) => void;
}

/**
 * Group commit: callers add items one at a time, and the items waiting when
 * a commit starts go to the database in it together, so a busy service pays
 * one transaction for many callers instead of one each. An idle one commits
 * a lone item at once (or at the end of the turn, with `gatherOneTurn`);
 * there is no timer to wait out. A group that fails is tried again item by
 * item, so an item the database refuses fails alone.
 */
export class GroupCommit<Item, Result> {
  private waiting: Waiting<Item, Result>[] = [];
  private running = 0;
  private gathering = false;

  /** `commit` returns one result per item, in the items' order. */
  constructor(
    private readonly commit: (items: Item[]) => Promise<Result[]>,
    private readonly settings: GroupCommitSettings,
  ) {}

  /** Resolves with the item's result once the commit that carried it has finished. */
  add(item: Item): Promise<Result> {
    return new Promise((done, failed) => {
      this.waiting.push({ item, done, failed });
      if (!this.settings.gatherOneTurn) this.startCommits();
      else if (!this.gathering) {
        this.gathering = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Starts commits for the items waiting now, without waiting out the turn (at shutdown, say). */
  flush(): void {
    this.gathering = false;
    this.startCommits();
  }

  private startCommits(): void {
    while (this.running < this.settings.concurrency && this.waiting.length > 0) {
      const group = this.waiting.splice(0, this.settings.maxGroup);
      this.running++;
      void this.commitGroup(group).finally(() => {
        this.running--;
        this.startCommits();
      });
    }
  }

  private async commitGroup(group: Waiting<Item, Result>[]): Promise<void> {
    try {
      const results = await this.commit(group.map((waiting) => waiting.item));
      group.forEach((waiting, index) => waiting.done(results[index]!));
    } catch (error) {
      if (group.length === 1) return group[0]!.failed(error);
      if (this.settings.retryAlone?.(error) === false) {
        for (const waiting of group) waiting.failed(error);
        return;
      }
      for (const waiting of group) {
        try {
          const [result] = await this.commit([waiting.item]);
          waiting.done(result!);
        } catch (alone) {
          waiting.failed(alone);
        }
      }
    }
  }
}
