import type pg from 'pg';

export interface Leadership {
  holder: string;
  /** Raised at every change of holder: the fencing token of this leadership. */
  term: number;
}

/**
 * Leader election through Postgres for a job that must run on exactly one
 * replica. A replica holds the lease while it renews it before `ttlMs` runs
 * out; when it dies, another takes over after at most `ttlMs`. A lease is
 * not enough on its own (a paused process can wake up after losing it), so
 * the job checks its term inside each of its transactions with `fence`.
 */
export class LeaderLease {
  constructor(
    private readonly pool: pg.Pool,
    readonly name: string,
    readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes or renews the lease; undefined while another live replica holds it. */
  async acquire(): Promise<Leadership | undefined> {
    const { rows } = await this.pool.query<{ term: string }>(
      `INSERT INTO leader_leases (name, holder, term, expires_at)
       VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET
         term = leader_leases.term + CASE WHEN leader_leases.holder = EXCLUDED.holder THEN 0 ELSE 1 END,
         holder = EXCLUDED.holder,
         expires_at = EXCLUDED.expires_at
       WHERE leader_leases.holder = EXCLUDED.holder OR leader_leases.expires_at < now()
       RETURNING term`,
      [this.name, this.holder, this.ttlMs],
    );
    return rows[0] ? { holder: this.holder, term: Number(rows[0].term) } : undefined;
  }

  /**
   * Inside a transaction: true while `leadership` is still current. The row
   * stays share-locked until the transaction ends, so no other replica can
   * take over halfway through the job's writes.
   */
  async fence(client: pg.PoolClient, leadership: Leadership): Promise<boolean> {
    const { rowCount } = await client.query(
      `SELECT 1 FROM leader_leases WHERE name = $1 AND holder = $2 AND term = $3 AND expires_at > now() FOR SHARE`,
      [this.name, leadership.holder, leadership.term],
    );
    return rowCount === 1;
  }

  /** Gives the lease up at shutdown, so another replica takes over at once. */
  async release(): Promise<void> {
    await this.pool.query(`UPDATE leader_leases SET expires_at = now() - interval '1 millisecond' WHERE name = $1 AND holder = $2`, [
      this.name,
      this.holder,
    ]);
  }
}
