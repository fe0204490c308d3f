import type { ProjectDto } from '@loupe/api-contracts';
import { useCallback, useEffect, useState } from 'react';
import { useProblem } from '../session/use-problem';
import type { ProjectsApi } from './projects-api';

/** Every project, loaded once; `add` puts one created on this page in the list without loading it again. */
export function useProjects(api: ProjectsApi, onSessionExpired: () => void) {
  const [projects, setProjects] = useState<ProjectDto[] | null>(null);
  const { problem, fail } = useProblem(onSessionExpired);
  useEffect(() => {
    api.list().then(setProjects, fail);
  }, [api, fail]);
  const add = useCallback((project: ProjectDto) => setProjects((shown) => [...(shown ?? []), project]), []);
  return { projects, problem, add };
}
