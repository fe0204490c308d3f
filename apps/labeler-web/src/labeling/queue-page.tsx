import type { ProjectDto } from '@loupe/api-contracts';
import { useMemo, useState } from 'react';
import { ProjectPicker } from '../projects/project-picker';
import { KeyLegend } from './key-legend';
import { LabelingApi } from './labeling-api';
import { SampleFigure } from './sample-figure';
import { useLabelQueue } from './use-label-queue';

const QUEUE_KEYS = [
  { key: 'S', does: 'skip' },
  { key: 'Z', does: 'undo last answer' },
];

/** Pick a project, then label its queue with the keyboard. */
export function QueuePage({ onSessionExpired }: { onSessionExpired: () => void }) {
  const [project, setProject] = useState<ProjectDto | null>(null);
  if (project) return <QueueScreen project={project} onSessionExpired={onSessionExpired} onLeave={() => setProject(null)} />;
  return <ProjectPicker title="Label" onPick={setProject} onSessionExpired={onSessionExpired} />;
}

/** One sample at a time, large, with the model's guess. */
function QueueScreen({ project, onSessionExpired, onLeave }: { project: ProjectDto; onSessionExpired: () => void; onLeave: () => void }) {
  const api = useMemo(() => new LabelingApi(fetch), []);
  const queue = useLabelQueue(api, project, onSessionExpired);
  return (
    <main className="queue">
      <h1>
        {project.name} <button type="button" onClick={onLeave}>Projects</button>
      </h1>
      <p className="counters">
        Done today: <strong>{queue.doneToday}</strong> · In the queue: <strong>{queue.queueDepth}</strong>
      </p>
      {queue.problem && (
        <p className="notice error" role="alert">
          {queue.problem}
        </p>
      )}
      {queue.status === 'loading' && <p className="notice">Claiming a sample…</p>}
      {queue.status === 'empty' && <p className="notice">The queue is empty for you. New samples appear here as the line sends them.</p>}
      {queue.current && <SampleFigure sample={queue.current} />}
      {queue.current && <KeyLegend classes={project.classes} more={QUEUE_KEYS} />}
    </main>
  );
}
