import type { ProjectDto } from '@loupe/api-contracts';
import { useMemo, type ReactNode } from 'react';
import { routeHref, type Screen } from '../routes/routes';
import styles from './project-picker.module.css';
import { ProjectsApi } from './projects-api';
import { useProjects } from './use-projects';

interface ProjectRouteProps {
  /** The per-project screen: its projects link to `#/<screen>/<project id>`. */
  screen: Extract<Screen, 'label' | 'review' | 'training'>;
  title: string;
  /** The project the address names, or null to pick one. */
  projectId: string | null;
  onSessionExpired: () => void;
  /** The screen of the project picked. */
  children: (project: ProjectDto) => ReactNode;
}

/** The first step of labeling, reviewing and training: the project the address names, or a list of projects to pick from. */
export function ProjectRoute({ screen, title, projectId, onSessionExpired, children }: ProjectRouteProps) {
  const api = useMemo(() => new ProjectsApi(fetch), []);
  const { projects, problem } = useProjects(api, onSessionExpired);
  const picked = projectId === null ? undefined : projects?.find((project) => project.id === projectId);
  if (picked) return children(picked);
  if (projectId !== null && projects === null && !problem) {
    return (
      <main>
        <p className="notice">Loading the project…</p>
      </main>
    );
  }
  return (
    <main>
      <h1>{title}: pick a project</h1>
      {problem && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
      {projects === null && !problem && <p className="notice">Loading projects…</p>}
      {projects && projectId !== null && (
        <p className="notice error" role="alert">
          There is no project with the id in this address ({projectId}); pick one below.
        </p>
      )}
      {projects?.length === 0 && <p className="notice">No projects yet: an engineer creates one for each inspection task.</p>}
      <ul className={styles.projects}>
        {projects?.map((project) => (
          <li key={project.id}>
            <a href={routeHref(screen, project.id)}>{project.name}</a>
            <span>
              {project.task} · {project.classes.length} classes: {project.classes.join(', ')}
            </span>
          </li>
        ))}
      </ul>
    </main>
  );
}
