import { Inject, Injectable } from '@nestjs/common';
import { Kysely } from 'kysely';
import type { DB } from '../../database/generated/database-types';
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

/** Enrollment tokens and device credentials. Tokens are kept as SHA-256 only, secrets as Mosquitto hashes. */
@Injectable()
export class DeviceIdentityRepository {
  constructor(@Inject(Kysely) private readonly db: Kysely<DB>) {}

  async createToken(token: NewEnrollmentToken): Promise<void> {
    await this.db
      .insertInto('enrollment_tokens')
      .values({
        token_hash: token.tokenHash,
        site_id: token.siteId,
        device_id: token.deviceId,
        fleet_group: token.fleetGroup,
        created_by: token.createdBy,
        expires_at: token.expiresAt,
      })
      .execute();
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
    return this.db.transaction().execute(async (trx) => {
      const token = await trx
        .selectFrom('enrollment_tokens')
        .select(['site_id', 'device_id', 'fleet_group', 'expires_at', 'used_at'])
        .where('token_hash', '=', tokenHash)
        .forUpdate()
        .executeTakeFirst();
      if (!token) return { refused: 'token-unknown' };
      if (token.used_at) return { refused: 'token-used', detail: `used at ${token.used_at.toISOString()}` };
      if (token.expires_at <= at) return { refused: 'token-expired', detail: `expired at ${token.expires_at.toISOString()}` };
      if (claimed && (claimed.siteId !== token.site_id || claimed.deviceId !== token.device_id)) {
        return { refused: 'token-for-another-device', detail: `it enrolls ${token.site_id}/${token.device_id}, not ${claimed.siteId}/${claimed.deviceId}` };
      }
      await trx.updateTable('enrollment_tokens').set({ used_at: at }).where('token_hash', '=', tokenHash).execute();
      // Enrolling again replaces the secret and lifts a revocation: issuing the token was the admin's decision.
      await trx
        .insertInto('device_credentials')
        .values({ site_id: token.site_id, device_id: token.device_id, secret_hash: secretHash, fleet_group: token.fleet_group, enrolled_at: at, revoked_at: null })
        .onConflict((oc) =>
          oc.columns(['site_id', 'device_id']).doUpdateSet((eb) => ({
            secret_hash: eb.ref('excluded.secret_hash'),
            fleet_group: eb.ref('excluded.fleet_group'),
            enrolled_at: eb.ref('excluded.enrolled_at'),
            revoked_at: null,
          })),
        )
        .execute();
      await beforeCommit?.({ siteId: token.site_id, deviceId: token.device_id });
      return { enrolled: { siteId: token.site_id, deviceId: token.device_id, fleetGroup: token.fleet_group } };
    });
  }

  /** The device's credential unless it was revoked. */
  async activeCredential(device: DeviceRef): Promise<DeviceCredential | undefined> {
    const row = await this.db
      .selectFrom('device_credentials')
      .select(['fleet_group', 'secret_hash'])
      .where('site_id', '=', device.siteId)
      .where('device_id', '=', device.deviceId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row && { ...device, fleetGroup: row.fleet_group, secretHash: row.secret_hash };
  }

  /** Every device that may sign in, ordered by site and device. */
  async activeCredentials(): Promise<DeviceCredential[]> {
    const rows = await this.db
      .selectFrom('device_credentials')
      .select(['site_id', 'device_id', 'fleet_group', 'secret_hash'])
      .where('revoked_at', 'is', null)
      .orderBy('site_id')
      .orderBy('device_id')
      .execute();
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
    return this.db.transaction().execute(async (trx) => {
      const revoked = await trx
        .updateTable('device_credentials')
        .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(at)) }))
        .where('site_id', '=', device.siteId)
        .where('device_id', '=', device.deviceId)
        .returning('revoked_at')
        .executeTakeFirst();
      await trx
        .deleteFrom('enrollment_tokens')
        .where('site_id', '=', device.siteId)
        .where('device_id', '=', device.deviceId)
        .where('used_at', 'is', null)
        .execute();
      if (revoked) await beforeCommit?.();
      return revoked?.revoked_at ?? undefined;
    });
  }
}
