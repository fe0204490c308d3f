import { Inject, Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database/database';
import type { DB } from '../database/generated/database-types';
import { DATABASE } from '../infrastructure.tokens';

/** Which registry version of a model serves its project now. */
@Injectable()
export class ServingVersionRepository {
  private readonly db: Kysely<DB>;

  constructor(@Inject(DATABASE) database: Pick<Database, 'db'>) {
    this.db = database.db;
  }

  /**
   * The registry version most enrolled devices report running (what a
   * rollout compares with and returns to), else the one the `production`
   * alias points at; undefined when neither names a version the registry has.
   */
  async of(modelName: string): Promise<number | undefined> {
    const row = await this.db
      .selectNoFrom((eb) =>
        eb.fn
          .coalesce(
            eb
              .selectFrom('device_model_states as s')
              .innerJoin('device_credentials as c', (join) => join.onRef('c.site_id', '=', 's.site_id').onRef('c.device_id', '=', 's.device_id'))
              .innerJoin('model_versions as v', (join) =>
                join.on('v.model_name', '=', modelName).on(sql<string>`v.version::text`, '=', sql<string>`s.reported->'active'->>'version'`),
              )
              .select('v.version')
              .where('c.revoked_at', 'is', null)
              .where(sql<string>`s.reported->'active'->>'name'`, '=', modelName)
              .groupBy('v.version')
              .orderBy(sql`count(*)`, 'desc')
              .orderBy('v.version', 'desc')
              .limit(1),
            eb.selectFrom('model_aliases as a').select('a.version').where('a.model_name', '=', modelName).where('a.alias', '=', 'production'),
          )
          .as('version'),
      )
      .executeTakeFirst();
    return row?.version ?? undefined;
  }
}
