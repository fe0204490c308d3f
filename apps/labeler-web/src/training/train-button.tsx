import { useState } from 'react';
import { useProblem } from '../session/use-problem';
import type { TrainingApi } from './training-api';
import styles from './training.module.css';

interface TrainButtonProps {
  api: TrainingApi;
  projectId: string;
  /** A run was queued: load the runs again, and show it. */
  onStarted: (runId: string) => void;
  onSessionExpired: () => void;
}

/** Starts a run on the project's settled labels, with the default backbone and recipe. */
export function TrainButton({ api, projectId, onStarted, onSessionExpired }: TrainButtonProps) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const { problem, setProblem, fail } = useProblem(onSessionExpired);
  const train = () => {
    setBusy(true);
    setOutcome(null);
    setProblem(null);
    api
      .start(projectId)
      .then(
        (run) => {
          setOutcome(`Run queued; it trains on the labels settled now.`);
          onStarted(run.id);
        },
        fail,
      )
      .finally(() => setBusy(false));
  };
  return (
    <div className={styles.toolbar}>
      <button type="button" className="primary" disabled={busy} onClick={train}>
        {busy ? 'Starting…' : 'Train'}
      </button>
      {outcome && <p role="status">{outcome}</p>}
      {problem && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
