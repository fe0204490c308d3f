import type { TrainingRunDto } from '@loupe/api-contracts';
import { phaseShare, progressText } from './training-display';
import styles from './training.module.css';

/** Where a queued or running run is: the current phase's bar and its count. */
export function RunProgress({ run }: { run: TrainingRunDto }) {
  if (run.progress === null) return <p className={styles.meta}>Waiting for a worker to take the run…</p>;
  const text = progressText(run.progress);
  return (
    <div className={styles.progress}>
      <progress max={1} value={phaseShare(run.progress)} aria-label={text} />
      <span role="status">{text}</span>
    </div>
  );
}
