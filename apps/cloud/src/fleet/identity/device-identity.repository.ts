import type pg from 'pg';
import { inTransaction } from '../../database/transaction';
import type { EnrollmentRefusal } from './identity.errors';

export interface DeviceRef {
  siteId: string;
  deviceId: string;
}

/** A device that may sign in, with the hash of its secret. */
export interface DeviceCredential extends DeviceRef {
  fleetGroup: string;
  secretHash: string;
}

export interface NewEnrollmentToken extends DeviceRef {
  tokenHash: string;
  fleetGroup: string;
  createdBy: string;
  expiresAt: Date;
}

export type Redemption = { enrolled: DeviceRef & { fleetGroup: string } } | { refused: EnrollmentRefusal; detail?: string };

interface TokenRow {
  site_id: string;
  device_id: string;
  fleet_group: string;
  expires_at: Date;
  used_at: Date | null;
}

/** Enrollment tokens and device credentials. Tokens are kept as SHA-256 only, secrets as Mosquitto hashes. */
export class DeviceIdentityRepository {
  constructor(private readonly pool: pg.Pool) {}

  async createToken(token: NewEnrollmentToken): Promise<void> {
    await this.pool.query(
      `INSERT INTO enrollment_tokens (token_hash, site_id, device_id, fleet_group, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [token.tokenHash, token.siteId, token.deviceId, token.fleetGroup, token.createdBy, token.expiresAt],
    );
  }

  /**
   * Uses the token and stores the device's secret in one transaction. The
   * row lock makes concurrent redemptions of one token wait for each other,
   * so exactly one finds it unused. A refusal changes nothing, not even the
   * token: a box that names the wrong device may try again with the right one.
   * `beforeCommit` runs inside the transaction once the device is known;
   * when it throws, the redemption is rolled back and the token stays unused.
   */
  redeemToken(
    tokenHash: string,
    secretHash: string,
    at: Date,
    { claimed, beforeCommit }: { claimed?: DeviceRef | undefined; beforeCommit?: (device: DeviceRef) => Promise<void> } = {},
  ): Promise<Redemption> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<TokenRow>(
        'SELECT site_id, device_id, fleet_group, expires_at, used_at FROM enrollment_tokens WHERE token_hash = $1 FOR UPDATE',
        [tokenHash],
      );
      const token = rows[0];
      if (!token) return { refused: 'token-unknown' };
      if (token.used_at) return { refused: 'token-used', detail: `used at ${token.used_at.toISOString()}` };
      if (token.expires_at <= at) return { refused: 'token-expired', detail: `expired at ${token.expires_at.toISOString()}` };
      if (claimed && (claimed.siteId !== token.site_id || claimed.deviceId !== token.device_id)) {
        return { refused: 'token-for-another-device', detail: `it enrolls ${token.site_id}/${token.device_id}, not ${claimed.siteId}/${claimed.deviceId}` };
      }
      await client.query('UPDATE enrollment_tokens SET used_at = $2 WHERE token_hash = $1', [tokenHash, at]);
      // Enrolling again replaces the secret and lifts a revocation: issuing the token was the admin's decision.
      await client.query(
        `INSERT INTO device_credentials (site_id, device_id, secret_hash, fleet_group, enrolled_at, revoked_at) VALUES ($1, $2, $3, $4, $5, NULL)
         ON CONFLICT (site_id, device_id) DO UPDATE SET
           secret_hash = EXCLUDED.secret_hash, fleet_group = EXCLUDED.fleet_group, enrolled_at = EXCLUDED.enrolled_at, revoked_at = NULL`,
        [token.site_id, token.device_id, secretHash, token.fleet_group, at],
      );
      await beforeCommit?.({ siteId: token.site_id, deviceId: token.device_id });
      return { enrolled: { siteId: token.site_id, deviceId: token.device_id, fleetGroup: token.fleet_group } };
    });
  }

  /** The device's credential unless it was revoked. */
  async activeCredential(device: DeviceRef): Promise<DeviceCredential | undefined> {
    const { rows } = await this.pool.query<{ fleet_group: string; secret_hash: string }>(
      'SELECT fleet_group, secret_hash FROM device_credentials WHERE site_id = $1 AND device_id = $2 AND revoked_at IS NULL',
      [device.siteId, device.deviceId],
    );
    const row = rows[0];
    return row && { ...device, fleetGroup: row.fleet_group, secretHash: row.secret_hash };
  }

  /** Every device that may sign in, ordered by site and device. */
  async activeCredentials(): Promise<DeviceCredential[]> {
    const { rows } = await this.pool.query<{ site_id: string; device_id: string; fleet_group: string; secret_hash: string }>(
      'SELECT site_id, device_id, fleet_group, secret_hash FROM device_credentials WHERE revoked_at IS NULL ORDER BY site_id, device_id',
    );
    return rows.map((row) => ({ siteId: row.site_id, deviceId: row.device_id, fleetGroup: row.fleet_group, secretHash: row.secret_hash }));
  }

  /**
   * Revokes the device's credential and drops its unused tokens, so a token
   * handed out before the revocation cannot bring it back. Returns when the
   * credential was revoked (the first time), or undefined when the device
   * was never enrolled. `beforeCommit` runs inside the transaction when
   * there is a credential; when it throws, nothing is revoked.
   */
  revoke(device: DeviceRef, at: Date, { beforeCommit }: { beforeCommit?: () => Promise<void> } = {}): Promise<Date | undefined> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ revoked_at: Date }>(
        `UPDATE device_credentials SET revoked_at = COALESCE(revoked_at, $3) WHERE site_id = $1 AND device_id = $2 RETURNING revoked_at`,
        [device.siteId, device.deviceId, at],
      );
      await client.query('DELETE FROM enrollment_tokens WHERE site_id = $1 AND device_id = $2 AND used_at IS NULL', [device.siteId, device.deviceId]);
      if (rows[0]) await beforeCommit?.();
      return rows[0]?.revoked_at;
    });
  }
}
