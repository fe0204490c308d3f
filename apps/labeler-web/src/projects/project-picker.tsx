import type { ProjectDto } from '@loupe/api-contracts';
import { useMemo } from 'react';
import { ProjectsApi } from './projects-api';
import { useProjects } from './use-projects';

/** The projects as buttons: the first step of labeling and of reviewing. */
export function ProjectPicker({ title, onPick, onSessionExpired }: { title: string; onPick: (project: ProjectDto) => void; onSessionExpired: () => void }) {
  const api = useMemo(() => new ProjectsApi(fetch), []);
  const { projects, problem } = useProjects(api, onSessionExpired);
  return (
    <main>
      <h1>{title}</h1>
      {problem && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
      {projects === null && !problem && <p className="notice">Loading projects…</p>}
      {projects?.length === 0 && <p className="notice">No projects yet: an engineer creates one for each inspection task.</p>}
      <ul className="projects">
        {projects?.map((candidate) => (
          <li key={candidate.id}>
            <button type="button" onClick={() => onPick(candidate)}>
              {candidate.name}
            </button>{' '}
            {candidate.task}, classes: {candidate.classes.join(', ')}
          </li>
        ))}
      </ul>
    </main>
  );
}
