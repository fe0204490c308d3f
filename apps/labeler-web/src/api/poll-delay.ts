export const POLL_INTERVAL_MS = 5_000;
const MAX_POLL_INTERVAL_MS = 60_000;

/**
 * When to ask the cloud again: every 5 s while it answers, backing off
 * (10 s, 20 s, 40 s, then every minute) while it does not, so open browser
 * tabs do not pile onto a cloud that is restarting.
 */
export function nextPollDelayMs(consecutiveFailures: number): number {
  return Math.min(POLL_INTERVAL_MS * 2 ** consecutiveFailures, MAX_POLL_INTERVAL_MS);
}
