import { randomUUID } from 'node:crypto';
import type { CreateProjectRequest, ProjectDto } from '@loupe/api-contracts';
import { DomainError } from '@loupe/service';
import type pg from 'pg';
import { inTransaction } from '../database/transaction';

/** The name or the model is taken by another project (HTTP 409). */
export class ProjectTakenError extends DomainError {
  readonly kind = 'conflict';
  constructor(project: CreateProjectRequest) {
    super(`a project named ${project.name} or taking model ${project.modelName} exists already`);
    this.name = 'ProjectTakenError';
  }
}

export class ProjectNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor(id: string) {
    super(`no project ${id}`);
    this.name = 'ProjectNotFoundError';
  }
}

interface ProjectRow {
  id: string;
  name: string;
  model_name: string;
  task: ProjectDto['task'];
  classes: string[];
  consensus: number;
}

const toDto = (row: ProjectRow): ProjectDto => ({
  id: row.id,
  name: row.name,
  modelName: row.model_name,
  task: row.task,
  classes: row.classes,
  consensus: row.consensus,
});

export class ProjectRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Creates the project and queues the samples of its model already stored,
   * in one transaction, so none are missed between the two.
   */
  async create(project: CreateProjectRequest): Promise<ProjectDto> {
    const id = randomUUID();
    await inTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query(
        `INSERT INTO projects (id, name, model_name, task, classes, consensus) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [id, project.name, project.modelName, project.task, project.classes, project.consensus],
      );
      if (rowCount !== 1) throw new ProjectTakenError(project);
      await client.query(
        `INSERT INTO label_tasks (sample_id, project_id, priority)
         SELECT s.id, $1, s.priority FROM samples s WHERE s.model_name = $2 ON CONFLICT (sample_id) DO NOTHING`,
        [id, project.modelName],
      );
    });
    return { id, ...project };
  }

  async list(): Promise<ProjectDto[]> {
    const { rows } = await this.pool.query<ProjectRow>('SELECT id, name, model_name, task, classes, consensus FROM projects ORDER BY name');
    return rows.map(toDto);
  }

  async get(id: string): Promise<ProjectDto> {
    const { rows } = await this.pool.query<ProjectRow>('SELECT id, name, model_name, task, classes, consensus FROM projects WHERE id = $1', [id]);
    if (!rows[0]) throw new ProjectNotFoundError(id);
    return toDto(rows[0]);
  }
}
