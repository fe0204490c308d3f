import { projectListResponseSchema, projectSchema, type CreateProjectRequest, type ProjectDto } from '@loupe/api-contracts';
import { callCloud, translateRefusals } from '../api/cloud-api';

/** The cloud turned the new project down (a bad field, a name or model already taken); the message is its reason. */
export class ProjectRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectRejectedError';
  }
}

/** The labeling projects, each call checked against the shared contract. */
export class ProjectsApi {
  private readonly fetchFn: typeof fetch;

  constructor(fetchFn: typeof fetch) {
    this.fetchFn = fetchFn;
  }

  async list(): Promise<ProjectDto[]> {
    return (await callCloud(this.fetchFn, { method: 'GET', path: '/api/projects' }, projectListResponseSchema)).projects;
  }

  /** Creates a project; its model's stored samples join its queue. */
  create(project: CreateProjectRequest): Promise<ProjectDto> {
    const created = callCloud(this.fetchFn, { method: 'POST', path: '/api/projects', body: project }, projectSchema);
    return translateRefusals(created, [400, 409], (refusal) => new ProjectRejectedError(refusal.reason ?? refusal.message));
  }
}
