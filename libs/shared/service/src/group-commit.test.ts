import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit';

/** A commit that records its groups and finishes when the test says so. */
function heldCommits() {
  const groups: number[][] = [];
  const finish: (() => void)[] = [];
  const commit = (items: number[]) =>
    new Promise<string[]>((done) => {
      groups.push(items);
      finish.push(() => done(items.map((item) => `committed ${item}`)));
    });
  return { groups, finish, commit };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('commits a lone item at once, and the items that arrive meanwhile together in the next commit', async () => {
    const { groups, finish, commit } = heldCommits();
    const commits = new GroupCommit(commit, { maxGroup: 10, concurrency: 1 });
    const first = commits.add(1);
    const later = [commits.add(2), commits.add(3), commits.add(4)];
    await settle();
    expect(groups).toEqual([[1]]);
    finish[0]!();
    expect(await first).toBe('committed 1');
    await settle();
    expect(groups).toEqual([[1], [2, 3, 4]]);
    finish[1]!();
    expect(await Promise.all(later)).toEqual(['committed 2', 'committed 3', 'committed 4']);
  });

  it('runs up to `concurrency` commits at once, each of at most `maxGroup` items', async () => {
    const { groups, finish, commit } = heldCommits();
    const commits = new GroupCommit(commit, { maxGroup: 2, concurrency: 2 });
    const all = [1, 2, 3, 4, 5, 6, 7].map((item) => commits.add(item));
    await settle();
    expect(groups).toEqual([[1], [2]]);
    finish[0]!();
    await settle();
    expect(groups).toEqual([[1], [2], [3, 4]]);
    finish[1]!();
    finish[2]!();
    await settle();
    expect(groups).toEqual([[1], [2], [3, 4], [5, 6], [7]]);
    finish[3]!();
    finish[4]!();
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5, 6, 7].map((item) => `committed ${item}`));
  });

  it('tries a failed group again item by item, so only the item the database refuses fails', async () => {
    const groups: number[][] = [];
    let release!: () => void;
    const firstHeld = new Promise<void>((resolve) => (release = resolve));
    const commits = new GroupCommit(
      async (items: number[]) => {
        groups.push(items);
        if (groups.length === 1) await firstHeld;
        if (items.includes(13)) throw new Error('13 violates a constraint');
        return items.map((item) => item * 2);
      },
      { maxGroup: 10, concurrency: 1 },
    );
    const first = commits.add(1);
    const outcomes = [12, 13, 14].map((item) => commits.add(item).then((doubled) => ({ doubled }), (error: Error) => ({ error: error.message })));
    await settle();
    release();
    expect(await first).toBe(2);
    expect(await Promise.all(outcomes)).toEqual([{ doubled: 24 }, { error: '13 violates a constraint' }, { doubled: 28 }]);
    expect(groups).toEqual([[1], [12, 13, 14], [12], [13], [14]]);
  });

  it('fails the whole group at once for an error that retryAlone says no single item caused', async () => {
    const groups: number[][] = [];
    let release!: () => void;
    const firstHeld = new Promise<void>((resolve) => (release = resolve));
    const commits = new GroupCommit(
      async (items: number[]) => {
        groups.push(items);
        if (groups.length === 1) await firstHeld;
        if (groups.length > 1) throw new Error('database unreachable');
        return items;
      },
      { maxGroup: 10, concurrency: 1, retryAlone: (error) => !(error as Error).message.includes('unreachable') },
    );
    const first = commits.add(1);
    const outcomes = [2, 3].map((item) => commits.add(item).catch((error: Error) => error.message));
    await settle();
    release();
    expect(await first).toBe(1);
    expect(await Promise.all(outcomes)).toEqual(['database unreachable', 'database unreachable']);
    expect(groups).toEqual([[1], [2, 3]]);
  });
});

describe('GroupCommit gathering one turn', () => {
  it('holds an idle commit until the turn ends, so items added in one turn go together; flush starts it at once', async () => {
    const groups: number[][] = [];
    const commits = new GroupCommit(
      (items: number[]) => {
        groups.push(items);
        return Promise.resolve(items);
      },
      { maxGroup: Number.POSITIVE_INFINITY, concurrency: Number.POSITIVE_INFINITY, gatherOneTurn: true },
    );
    const first = [1, 2, 3].map((item) => commits.add(item));
    expect(groups).toEqual([]);
    await settle();
    expect(groups).toEqual([[1, 2, 3]]);
    expect(await Promise.all(first)).toEqual([1, 2, 3]);
    const second = [4, 5].map((item) => commits.add(item));
    commits.flush();
    expect(groups).toEqual([[1, 2, 3], [4, 5]]);
    await settle();
    expect(groups).toEqual([[1, 2, 3], [4, 5]]);
    expect(await Promise.all(second)).toEqual([4, 5]);
  });
});
