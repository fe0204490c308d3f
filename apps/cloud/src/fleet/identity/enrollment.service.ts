import { Inject, Injectable } from '@nestjs/common';
import { BROKER_ACCOUNTS } from './identity.tokens';
import { createHash, randomBytes } from 'node:crypto';
import { deviceUsername } from '@loupe/topics';
import { Clock } from '../../clock';
import { DeviceCredentials } from './device-credentials';
import { DeviceIdentityRepository, type DeviceRef } from './device-identity.repository';
import { DeviceNotEnrolledError, EnrollmentRefusedError } from './identity.errors';
import { IdentityMetrics } from './identity-metrics';
import { hashMosquittoPassword } from './mosquitto-password';

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export interface EnrollmentTokenRequest extends DeviceRef {
  fleetGroup: string;
  ttlSeconds: number;
}

/**
 * A broker that keeps its own device accounts (Mosquitto's dynamic-security
 * plugin) and must be told of every enrollment and revocation. The embedded
 * broker needs none: it checks each CONNECT against the database.
 */
export interface BrokerAccounts {
  /** Creates the device's account with this password, replacing any earlier one. */
  grantDevice(device: DeviceRef, password: string): Promise<void>;
  /** Removes the device's account and disconnects it. Removing an unknown device succeeds. */
  removeDevice(device: DeviceRef): Promise<void>;
}

export interface EnrolledDevice extends DeviceRef {
  fleetGroup: string;
  username: string;
  password: string;
}

/**
 * How a box gets its identity: an admin asks for a one-time token for one
 * device, the box trades the token for its credentials, and an admin can
 * revoke them. Tokens and secrets are shown once and stored only hashed.
 */
@Injectable()
export class EnrollmentService {
  constructor(
    @Inject(DeviceIdentityRepository) private readonly repository: Pick<DeviceIdentityRepository, 'createToken' | 'redeemToken' | 'revoke'>,
    @Inject(DeviceCredentials) private readonly credentials: Pick<DeviceCredentials, 'invalidate'>,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(IdentityMetrics) private readonly metrics: Pick<IdentityMetrics, 'enrollments'>,
    /** None when the broker checks device credentials in the database. */
    @Inject(BROKER_ACCOUNTS) private readonly brokerAccounts: BrokerAccounts | null = null,
  ) {}

  async createToken(request: EnrollmentTokenRequest, createdBy: string): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.clock.now().getTime() + request.ttlSeconds * 1000);
    await this.repository.createToken({ ...request, tokenHash: tokenHash(token), createdBy, expiresAt });
    return { token, expiresAt };
  }

  /**
   * Trades a token for the device's credentials: 32 random bytes, kept as a
   * Mosquitto hash. A second enrollment of a device replaces its secret, so
   * the old one stops working here at once. A broker with its own accounts
   * gets the device's account before the token is spent: when the broker
   * cannot be reached the enrollment fails and the box can try the same
   * token again.
   */
  async enroll(token: string, claimed?: DeviceRef): Promise<EnrolledDevice> {
    const password = randomBytes(32).toString('base64url');
    const brokerAccounts = this.brokerAccounts;
    const redemption = await this.repository.redeemToken(tokenHash(token), await hashMosquittoPassword(password), this.clock.now(), {
      claimed,
      ...(brokerAccounts ? { beforeCommit: (device: DeviceRef) => brokerAccounts.grantDevice(device, password) } : {}),
    });
    if ('refused' in redemption) {
      this.metrics.enrollments.inc({ outcome: redemption.refused });
      throw new EnrollmentRefusedError(redemption.refused, redemption.detail);
    }
    const device = redemption.enrolled;
    this.credentials.invalidate({ siteId: device.siteId, deviceId: device.deviceId });
    this.metrics.enrollments.inc({ outcome: 'enrolled' });
    return { ...device, username: deviceUsername(device.siteId, device.deviceId), password };
  }

  /** Revokes the device here and on a broker with its own accounts; when that broker cannot be reached, nothing is revoked. */
  async revoke(device: DeviceRef): Promise<{ revokedAt: Date }> {
    const brokerAccounts = this.brokerAccounts;
    const revokedAt = await this.repository.revoke(device, this.clock.now(), brokerAccounts ? { beforeCommit: () => brokerAccounts.removeDevice(device) } : {});
    if (!revokedAt) throw new DeviceNotEnrolledError(device.siteId, device.deviceId);
    this.credentials.invalidate(device);
    return { revokedAt };
  }
}
