/** What a key press on the queue screen means. */
export type QueueKey = { kind: 'answer'; className: string } | { kind: 'skip' } | { kind: 'undo' } | undefined;

/** Keys 1-9 answer with the project's classes in order; S skips; Z takes the last answer back. */
export function queueKey(key: string, classes: readonly string[]): QueueKey {
  const className = classAtKey(key, classes);
  if (className !== undefined) return { kind: 'answer', className };
  if (key === 's' || key === 'S') return { kind: 'skip' };
  if (key === 'z' || key === 'Z') return { kind: 'undo' };
  return undefined;
}

/** The project's class that key 1-9 stands for, in the project's order; undefined for any other key. */
export function classAtKey(key: string, classes: readonly string[]): string | undefined {
  return /^[1-9]$/.test(key) ? classes[Number(key) - 1] : undefined;
}
