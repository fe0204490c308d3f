import type { TrainingRunDto } from '@loupe/api-contracts';
import { localMinute } from '../models/model-display';
import { RunState } from './run-state';
import { percent } from './training-display';
import styles from './training.module.css';

interface RunTableProps {
  runs: readonly { run: TrainingRunDto; number: number }[];
  selectedId: string | null;
  onSelect: (runId: string) => void;
}

/** Every run of the project, newest first; a run's button shows it below. */
export function RunTable({ runs, selectedId, onSelect }: RunTableProps) {
  return (
    <table aria-label="Training runs">
      <thead>
        <tr>
          <th>Run</th>
          <th>Created</th>
          <th>State</th>
          <th>Labels</th>
          <th>Accuracy</th>
          <th>Macro-F1</th>
          <th>Candidate</th>
        </tr>
      </thead>
      <tbody>
        {runs.map(({ run, number }) => (
          <tr key={run.id} className={run.id === selectedId ? styles.selected : undefined}>
            <td>
              <button type="button" aria-pressed={run.id === selectedId} onClick={() => onSelect(run.id)}>
                Run {number}
              </button>
            </td>
            <td className="numeric">
              <time dateTime={run.createdAt}>{localMinute(run.createdAt)}</time>
            </td>
            <td>
              <RunState state={run.state} />
            </td>
            <td className="numeric">{run.dataset?.labels ?? '-'}</td>
            <td className="numeric">{percent(run.challenger?.accuracy)}</td>
            <td className="numeric">{percent(run.challenger?.macroF1)}</td>
            <td>{run.candidateVersion === null ? '-' : `v${run.candidateVersion}${run.decision ? ` (${run.decision})` : ''}`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
