import type { Confirmation } from './use-confirmation';
import type { QueueCounters } from './use-label-queue';
import styles from './panel.module.css';

/** Your answers in this project today beside what waits in it. */
export function QueueCountersView({ counters }: { counters: QueueCounters }) {
  return (
    <dl className={styles.counters} aria-label="Counters">
      <div>
        <dt>Your answers here today</dt>
        <dd>{counters.doneTodayInProject ?? '–'}</dd>
      </div>
      <div>
        <dt>Waiting in this project</dt>
        <dd>{counters.queueDepth}</dd>
      </div>
    </dl>
  );
}

/**
 * What an empty queue means: the project's count includes samples this
 * labeler cannot get (answered or skipped by them, or held by someone
 * else), so "empty for you" and "3 waiting" can both be true.
 */
export function emptyQueueText(queueDepth: number): string {
  if (queueDepth === 0) return 'Nothing waits in this project. New samples appear here as the line sends them.';
  const samples = queueDepth === 1 ? '1 sample waits' : `${queueDepth} samples wait`;
  return `Nothing left for you here. ${samples} for other labelers: ones you answered or skipped, or that someone else is answering now. New samples appear as the line sends them.`;
}

/**
 * What the last action did. The live region stays; each confirmation is a
 * new paragraph in it, so screen readers announce it and it flashes even
 * when the words repeat.
 */
export function ConfirmationView({ confirmation }: { confirmation: Confirmation | null }) {
  return (
    <div role="status" aria-label="Last action" className={styles.confirmationRegion}>
      {confirmation && (
        <p key={confirmation.id} className={`${styles.confirmation} ${styles[confirmation.tone]}`}>
          {confirmation.text}
        </p>
      )}
    </div>
  );
}

export function ProblemView({ problem }: { problem: string | null }) {
  if (!problem) return null;
  return (
    <p className={`notice error ${styles.problem}`} role="alert">
      {problem}
    </p>
  );
}
