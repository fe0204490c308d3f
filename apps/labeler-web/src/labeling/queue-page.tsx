import type { ProjectDto } from '@loupe/api-contracts';
import { useMemo } from 'react';
import { BoxQueueScreen } from '../boxes/box-queue-screen';
import { ProjectRoute } from '../projects/project-picker';
import { ClassQueueScreen } from './class-queue-screen';
import { LabelingApi } from './labeling-api';
import { useLabelQueue } from './use-label-queue';

/** The project the address names (`#/label/<id>`), labeled one sample at a time; without one, a list to pick from. */
export function QueuePage({ projectId, onSessionExpired }: { projectId: string | null; onSessionExpired: () => void }) {
  return (
    <ProjectRoute screen="label" title="Label" projectId={projectId} onSessionExpired={onSessionExpired}>
      {(project) => <QueueScreen key={project.id} project={project} onSessionExpired={onSessionExpired} />}
    </ProjectRoute>
  );
}

function QueueScreen({ project, onSessionExpired }: { project: ProjectDto; onSessionExpired: () => void }) {
  const api = useMemo(() => new LabelingApi(fetch), []);
  const queue = useLabelQueue(api, project, onSessionExpired);
  return project.task === 'detection' ? <BoxQueueScreen project={project} queue={queue} /> : <ClassQueueScreen project={project} queue={queue} />;
}
