import type { ProjectDto, UserDto } from '@loupe/api-contracts';
import { useMemo, useState } from 'react';
import { ProjectRoute } from '../projects/project-picker';
import { LearningCurve } from './learning-curve';
import { PolicyForm } from './policy-form';
import { RunDetails } from './run-details';
import { RunTable } from './run-table';
import { TrainButton } from './train-button';
import { TrainingApi } from './training-api';
import { numberedRuns } from './training-display';
import { useTrainingRuns } from './use-training-runs';

// The roles the cloud lets start, approve and configure training.
const OPERATORS: readonly UserDto['role'][] = ['engineer', 'admin'];

interface TrainingPageProps {
  projectId: string | null;
  user: UserDto;
  onSessionExpired: () => void;
}

/** Training of one project (`#/training/<project id>`), or the projects to pick from. */
export function TrainingPage({ projectId, user, onSessionExpired }: TrainingPageProps) {
  return (
    <ProjectRoute screen="training" title="Training" projectId={projectId} onSessionExpired={onSessionExpired}>
      {(project) => <TrainingScreen key={project.id} project={project} canOperate={OPERATORS.includes(user.role)} onSessionExpired={onSessionExpired} />}
    </ProjectRoute>
  );
}

interface TrainingScreenProps {
  project: ProjectDto;
  canOperate: boolean;
  onSessionExpired: () => void;
}

function TrainingScreen({ project, canOperate, onSessionExpired }: TrainingScreenProps) {
  const api = useMemo(() => new TrainingApi(fetch), []);
  const { state, refresh } = useTrainingRuns(api, project.id, onSessionExpired);
  const [chosenId, setChosenId] = useState<string | null>(null);
  const runs = state.status === 'loaded' ? numberedRuns(state.value) : [];
  // The run picked in the table, else the newest.
  const shown = runs.find(({ run }) => run.id === chosenId) ?? runs[0];
  const started = (runId: string) => {
    setChosenId(runId);
    refresh();
  };
  return (
    <main>
      <h1>
        Training: {project.name} <a href="#/training">All projects</a>
      </h1>
      {canOperate && <TrainButton api={api} projectId={project.id} onStarted={started} onSessionExpired={onSessionExpired} />}
      {state.status === 'loading' && <p className="notice">Loading the runs…</p>}
      {state.status !== 'loading' && state.problem !== null && (
        <p className="notice error" role="alert">
          {state.problem} Retrying…
        </p>
      )}
      {state.status === 'loaded' && runs.length === 0 && (
        <p className="notice">No runs yet{canOperate ? ': press Train to train on the labels settled so far.' : ': an engineer starts them, or the policy does.'}</p>
      )}
      {runs.length > 0 && (
        <>
          <RunTable runs={runs} selectedId={shown?.run.id ?? null} onSelect={setChosenId} />
          <h2>Learning curve</h2>
          <LearningCurve runs={runs.map(({ run }) => run)} />
        </>
      )}
      {/* Keyed, so a half-written decision about one run never carries over to another. */}
      {shown && <RunDetails key={shown.run.id} run={shown.run} number={shown.number} api={api} canOperate={canOperate} onChanged={refresh} onSessionExpired={onSessionExpired} />}
      {canOperate && (
        <>
          <h2>Promotion policy</h2>
          <PolicyForm api={api} projectId={project.id} onSessionExpired={onSessionExpired} />
        </>
      )}
    </main>
  );
}
