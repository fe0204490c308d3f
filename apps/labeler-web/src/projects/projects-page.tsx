import type { ProjectDto, UserDto } from '@loupe/api-contracts';
import { useMemo } from 'react';
import { ProjectForm } from './project-form';
import { ProjectsApi } from './projects-api';
import { useProjects } from './use-projects';

// The roles the cloud lets create projects (POST /api/projects).
const CREATORS: readonly UserDto['role'][] = ['engineer', 'admin'];

/** Every labeling project; engineers and admins create them here too. */
export function ProjectsPage({ user, onSessionExpired }: { user: UserDto; onSessionExpired: () => void }) {
  const api = useMemo(() => new ProjectsApi(fetch), []);
  const { projects, problem, add } = useProjects(api, onSessionExpired);
  const canCreate = CREATORS.includes(user.role);
  return (
    <main>
      <h1>Projects</h1>
      {problem && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
      {projects === null && !problem && <p className="notice">Loading projects…</p>}
      {projects?.length === 0 && (
        <p className="notice">No projects yet{canCreate ? ': create one below for each inspection task.' : ': an engineer creates one for each inspection task.'}</p>
      )}
      {projects && projects.length > 0 && <ProjectTable projects={projects} />}
      {canCreate && <ProjectForm api={api} onCreated={add} onSessionExpired={onSessionExpired} />}
    </main>
  );
}

function ProjectTable({ projects }: { projects: readonly ProjectDto[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th>Name</th>
          <th>Model</th>
          <th>Task</th>
          <th>Classes</th>
          <th>Consensus</th>
        </tr>
      </thead>
      <tbody>
        {projects.map((project) => (
          <tr key={project.id}>
            <td>{project.name}</td>
            <td>{project.modelName}</td>
            <td>{project.task}</td>
            <td>{project.classes.join(', ')}</td>
            <td className="numeric">{project.consensus}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
