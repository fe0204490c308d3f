import type { TrainingRunState } from '@loupe/api-contracts';
import styles from './training.module.css';

const STATE_CLASS: Record<TrainingRunState, string> = {
  queued: styles.stateActive!,
  running: styles.stateActive!,
  succeeded: styles.stateSucceeded!,
  failed: styles.stateFailed!,
  cancelled: styles.stateCancelled!,
};

/** A run's state in its colour; the word carries the meaning, the colour only helps. */
export function RunState({ state }: { state: TrainingRunState }) {
  return <span className={STATE_CLASS[state]}>{state}</span>;
}
