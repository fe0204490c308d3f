const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * How long ago a device was last heard from, the way a person scans a table:
 * `12 s ago`, `5 min ago`, `3 h ago`, `2 d ago`. Rounds down, so a device
 * never looks fresher than it is.
 */
export function lastSeenAgo(lastSeenAt: Date, now: Date): string {
  // The cloud's clock stamps lastSeenAt; a workstation running a little
  // behind must not print "-2 s ago".
  const elapsed = Math.max(0, now.getTime() - lastSeenAt.getTime());
  if (elapsed < MINUTE) return `${Math.floor(elapsed / SECOND)} s ago`;
  if (elapsed < HOUR) return `${Math.floor(elapsed / MINUTE)} min ago`;
  if (elapsed < DAY) return `${Math.floor(elapsed / HOUR)} h ago`;
  return `${Math.floor(elapsed / DAY)} d ago`;
}
