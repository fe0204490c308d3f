import type { TrainingRunDto } from '@loupe/api-contracts';
import { localMinute } from '../models/model-display';
import { routeHref } from '../routes/routes';
import { EvaluationComparison } from './evaluation-comparison';
import { RunActions } from './run-actions';
import { RunProgress } from './run-progress';
import { RunState } from './run-state';
import type { TrainingApi } from './training-api';
import { datasetText, decisionText, isActive, runDuration } from './training-display';
import styles from './training.module.css';

interface RunDetailsProps {
  run: TrainingRunDto;
  /** Its number in the project, as the run table shows it. */
  number: number;
  api: TrainingApi;
  /** Engineers and admins: they see the run's actions and the link to its rollout. */
  canOperate: boolean;
  onChanged: () => void;
  onSessionExpired: () => void;
}

/** One run: where it stands, what it learned from, its candidate against the champion, and what an engineer can do about it. */
export function RunDetails({ run, number, api, canOperate, onChanged, onSessionExpired }: RunDetailsProps) {
  return (
    <section aria-labelledby="run-heading">
      <h2 id="run-heading">
        Run {number} of {localMinute(run.createdAt)}: <RunState state={run.state} />
      </h2>
      <p className={styles.meta}>
        {run.trigger === 'manual' ? `Started by ${run.startedBy}` : `Started by the policy (${run.trigger})`} · backbone {run.backbone.model} v{run.backbone.version} ·{' '}
        {datasetText(run.dataset)}
        {run.features && ` · features: ${run.features.computed} computed, ${run.features.cached} from the cache`} · {run.finishedAt === null ? 'running for' : 'took'} {runDuration(run, new Date())}
        {run.attempts > 1 && ` · attempt ${run.attempts}`}
      </p>
      {isActive(run.state) && <RunProgress run={run} />}
      {run.state === 'failed' && (
        <p className="notice error" role="alert">
          The run failed: {run.error ?? 'the cloud gave no reason'}
        </p>
      )}
      {run.decision !== null && <Decision run={run} canOperate={canOperate} />}
      {canOperate && <RunActions run={run} api={api} onChanged={onChanged} onSessionExpired={onSessionExpired} />}
      {run.challenger !== null && <EvaluationComparison run={run} challenger={run.challenger} />}
    </section>
  );
}

function Decision({ run, canOperate }: { run: TrainingRunDto; canOperate: boolean }) {
  return (
    <p className="notice">
      Candidate {run.modelName}
      {run.candidateVersion === null ? '' : ` v${run.candidateVersion}`}: {run.decision === null ? '' : decisionText(run.decision)}.
      {canOperate && run.rolloutId !== null && (
        <>
          {' '}
          <a href={routeHref('rollouts', run.rolloutId)}>Follow its rollout</a>
        </>
      )}
    </p>
  );
}
