import { randomUUID } from 'node:crypto';
import type { CreateProjectRequest, ProjectDto } from '@loupe/api-contracts';
import { DomainError } from '@loupe/service';
import { Inject, Injectable } from '@nestjs/common';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../database/database';
import type { DB, Project } from '../database/generated/database-types';
import { DATABASE } from '../infrastructure.tokens';

/** The name or the model is taken by another project (HTTP 409). */
export class ProjectTakenError extends DomainError {
  readonly kind = 'conflict';
  constructor(project: CreateProjectRequest) {
    super(`a project named ${project.name} or taking model ${project.modelName} exists already`);
  }
}

export class ProjectNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor(id: string) {
    super(`no project ${id}`);
  }
}

const PROJECT_COLUMNS = ['id', 'name', 'model_name', 'task', 'classes', 'consensus'] as const;

// Only create() writes projects, and it takes a validated CreateProjectRequest.
type ProjectRow = Omit<Selectable<Project>, 'created_at' | 'task'> & { task: ProjectDto['task'] };

const toDto = (row: ProjectRow): ProjectDto => ({
  id: row.id,
  name: row.name,
  modelName: row.model_name,
  task: row.task,
  classes: row.classes,
  consensus: row.consensus,
});

@Injectable()
export class ProjectRepository {
  private readonly db: Kysely<DB>;

  constructor(@Inject(DATABASE) database: Pick<Database, 'db'>) {
    this.db = database.db;
  }

  /**
   * Creates the project and queues the samples of its model already stored,
   * in one transaction, so none are missed between the two.
   */
  async create(project: CreateProjectRequest): Promise<ProjectDto> {
    const id = randomUUID();
    await this.db.transaction().execute(async (trx) => {
      const { numInsertedOrUpdatedRows } = await trx
        .insertInto('projects')
        .values({ id, name: project.name, model_name: project.modelName, task: project.task, classes: project.classes, consensus: project.consensus })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirstOrThrow();
      if (numInsertedOrUpdatedRows !== 1n) throw new ProjectTakenError(project);
      await trx
        .insertInto('label_tasks')
        .columns(['sample_id', 'project_id', 'priority'])
        .expression((eb) => eb.selectFrom('samples as s').select(['s.id', eb.val(id).as('project_id'), 's.priority']).where('s.model_name', '=', project.modelName))
        .onConflict((oc) => oc.column('sample_id').doNothing())
        .execute();
    });
    return { id, ...project };
  }

  async list(): Promise<ProjectDto[]> {
    const rows = await this.db.selectFrom('projects').select(PROJECT_COLUMNS).orderBy('name').$narrowType<{ task: ProjectDto['task'] }>().execute();
    return rows.map(toDto);
  }

  async get(id: string): Promise<ProjectDto> {
    const row = await this.db.selectFrom('projects').select(PROJECT_COLUMNS).where('id', '=', id).$narrowType<{ task: ProjectDto['task'] }>().executeTakeFirst();
    if (!row) throw new ProjectNotFoundError(id);
    return toDto(row);
  }
}
