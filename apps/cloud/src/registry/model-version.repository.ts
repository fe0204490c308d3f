import { Inject, Injectable } from '@nestjs/common';
import { modelLineageSchema, type ModelLineage } from '@loupe/api-contracts';
import type { PackageManifest } from '@loupe/model-package';
import { Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../database/generated/database-types';
import { ModelVersionNotFoundError } from './model-version.errors';
import type { ValidationReport } from './package-validation';

export const MODEL_ALIASES = ['candidate', 'staging', 'production', 'archived'] as const;
export type ModelAlias = (typeof MODEL_ALIASES)[number];

export interface ModelVersion {
  modelName: string;
  version: number;
  task: string;
  packageSha256: string;
  packageBytes: number;
  manifest: PackageManifest;
  validation: ValidationReport;
  metrics: Record<string, number>;
  datasetExport: string | null;
  parentVersion: number | null;
  notes: string;
  author: string;
  createdAt: Date;
  aliases: ModelAlias[];
  /** How a training run made it; null for a pushed model. */
  lineage: ModelLineage | null;
}

/** A version about to be stored: what the registry decided, under the number addNextVersion gave it. */
export type NewModelVersion = Pick<
  ModelVersion,
  'task' | 'packageSha256' | 'packageBytes' | 'manifest' | 'validation' | 'metrics' | 'datasetExport' | 'parentVersion' | 'notes' | 'lineage'
> & { packageKey: string; authorId: string };

export interface ModelSummary {
  modelName: string;
  project: string | null;
  task: string;
  latestVersion: number;
  aliases: Partial<Record<ModelAlias, number>>;
}

export interface AliasMove {
  modelName: string;
  alias: ModelAlias;
  version: number;
  reason: string;
  actorId: string;
}

/** model_versions, model_aliases and model_alias_moves: the registry's metadata in Postgres. */
@Injectable()
export class ModelVersionRepository {
  constructor(@Inject(Kysely) private readonly db: Kysely<DB>) {}

  /**
   * Stores the model's next version in one transaction: `build` gets the
   * number and returns the row (and whatever else `beforeCommit` needs),
   * `beforeCommit` runs once the row is written
   * (a failure there rolls it back). Pushes of one model wait for each other
   * on an advisory lock, so numbers have no gaps or repeats. The parent
   * version, if any, must exist.
   */
  addNextVersion<V extends NewModelVersion>(
    modelName: string,
    parentVersion: number | undefined,
    build: (version: number) => Promise<V>,
    beforeCommit: (row: V) => Promise<void>,
  ): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`model-versions/${modelName}`}))`.execute(trx);
      if (parentVersion !== undefined) await requireVersion(trx, modelName, parentVersion);
      const { latest } = await trx
        .selectFrom('model_versions')
        .select((eb) => eb.fn.max<number | null>('version').as('latest'))
        .where('model_name', '=', modelName)
        .executeTakeFirstOrThrow();
      const version = (latest ?? 0) + 1;
      const row = await build(version);
      await trx
        .insertInto('model_versions')
        .values({
          model_name: modelName,
          version,
          task: row.task,
          package_key: row.packageKey,
          package_sha256: row.packageSha256,
          package_bytes: row.packageBytes,
          manifest: JSON.stringify(row.manifest),
          validation: JSON.stringify(row.validation),
          metrics: JSON.stringify(row.metrics),
          dataset_export: row.datasetExport,
          parent_version: row.parentVersion,
          notes: row.notes,
          author_id: row.authorId,
          lineage: row.lineage && JSON.stringify(row.lineage),
        })
        .execute();
      await beforeCommit(row);
      return version;
    });
  }

  /** Every model, with the project that takes its samples (projects name the model they label), its latest version and its aliases. */
  async list(): Promise<ModelSummary[]> {
    const rows = await this.db
      .selectFrom('model_versions as v')
      .leftJoin('projects as p', 'p.model_name', 'v.model_name')
      .select((eb) => [
        'v.model_name',
        'p.name as project',
        sql<string>`(array_agg(v.task ORDER BY v.version DESC))[1]`.as('task'),
        eb.fn.max('v.version').as('latest'),
        eb
          .selectFrom('model_aliases as a')
          .select(sql<Partial<Record<ModelAlias, number>>>`jsonb_object_agg(a.alias, a.version)`.as('aliases'))
          .whereRef('a.model_name', '=', 'v.model_name')
          .as('aliases'),
      ])
      .groupBy(['v.model_name', 'p.name'])
      .orderBy('v.model_name')
      .execute();
    return rows.map((row) => ({ modelName: row.model_name, project: row.project, task: row.task, latestVersion: row.latest, aliases: row.aliases ?? {} }));
  }

  async find(modelName: string, version: number): Promise<ModelVersion | undefined> {
    const row = await this.db
      .selectFrom('model_versions as v')
      .innerJoin('users as u', 'u.id', 'v.author_id')
      .selectAll('v')
      .select((eb) => [
        'u.email as author',
        eb.fn<ModelAlias[]>('array', [
          eb.selectFrom('model_aliases as a').select('a.alias').whereRef('a.model_name', '=', 'v.model_name').whereRef('a.version', '=', 'v.version').orderBy('a.alias'),
        ]).as('aliases'),
      ])
      .where('v.model_name', '=', modelName)
      .where('v.version', '=', version)
      .executeTakeFirst();
    return (
      row && {
        modelName: row.model_name,
        version: row.version,
        task: row.task,
        packageSha256: row.package_sha256,
        packageBytes: row.package_bytes,
        manifest: row.manifest as PackageManifest,
        validation: row.validation as ValidationReport,
        metrics: row.metrics as Record<string, number>,
        datasetExport: row.dataset_export,
        parentVersion: row.parent_version,
        notes: row.notes,
        author: row.author,
        createdAt: row.created_at,
        aliases: row.aliases,
        // Written by this code from the same schema; parsed so a reader never trusts a hand-edited row's shape.
        lineage: modelLineageSchema.nullable().parse(row.lineage),
      }
    );
  }

  /** Where the version's package is kept, with its size and SHA-256. */
  async packageOf(modelName: string, version: number): Promise<{ key: string; bytes: number; sha256: string } | undefined> {
    const row = await this.db
      .selectFrom('model_versions')
      .select(['package_key', 'package_bytes', 'package_sha256'])
      .where('model_name', '=', modelName)
      .where('version', '=', version)
      .executeTakeFirst();
    return row && { key: row.package_key, bytes: row.package_bytes, sha256: row.package_sha256 };
  }

  /** Points the alias at the version (which must exist), and records who moved it, from where, and why. */
  moveAlias(move: AliasMove): Promise<{ fromVersion: number | null }> {
    return this.db.transaction().execute(async (trx) => {
      await requireVersion(trx, move.modelName, move.version);
      const current = await trx
        .selectFrom('model_aliases')
        .select('version')
        .where('model_name', '=', move.modelName)
        .where('alias', '=', move.alias)
        .forUpdate()
        .executeTakeFirst();
      const fromVersion = current?.version ?? null;
      await trx
        .insertInto('model_aliases')
        .values({ model_name: move.modelName, alias: move.alias, version: move.version, moved_at: sql<Date>`now()` })
        .onConflict((oc) =>
          oc.columns(['model_name', 'alias']).doUpdateSet((eb) => ({ version: eb.ref('excluded.version'), moved_at: eb.ref('excluded.moved_at') })),
        )
        .execute();
      await trx
        .insertInto('model_alias_moves')
        .values({ model_name: move.modelName, alias: move.alias, from_version: fromVersion, to_version: move.version, actor_id: move.actorId, reason: move.reason })
        .execute();
      return { fromVersion };
    });
  }

  /** Every alias move of the model, newest first. */
  async aliasHistory(modelName: string): Promise<{ alias: string; fromVersion: number | null; toVersion: number; actor: string; reason: string; movedAt: Date }[]> {
    const rows = await this.db
      .selectFrom('model_alias_moves as m')
      .innerJoin('users as u', 'u.id', 'm.actor_id')
      .select(['m.alias', 'm.from_version', 'm.to_version', 'u.email as actor', 'm.reason', 'm.moved_at'])
      .where('m.model_name', '=', modelName)
      .orderBy('m.id', 'desc')
      .execute();
    return rows.map((row) => ({ alias: row.alias, fromVersion: row.from_version, toVersion: row.to_version, actor: row.actor, reason: row.reason, movedAt: row.moved_at }));
  }
}

async function requireVersion(db: Transaction<DB>, modelName: string, version: number): Promise<void> {
  const found = await db.selectFrom('model_versions').select('version').where('model_name', '=', modelName).where('version', '=', version).executeTakeFirst();
  if (!found) throw new ModelVersionNotFoundError(modelName, version);
}
