import { createHash, randomBytes } from 'node:crypto';
import { deviceUsername } from '@loupe/topics';
import type { Clock } from '../../clock';
import type { DeviceCredentials } from './device-credentials';
import type { DeviceIdentityRepository, DeviceRef } from './device-identity.repository';
import { DeviceNotEnrolledError, EnrollmentRefusedError } from './identity.errors';
import type { IdentityMetrics } from './identity-metrics';
import { hashMosquittoPassword } from './mosquitto-password';

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export interface EnrollmentTokenRequest extends DeviceRef {
  fleetGroup: string;
  ttlSeconds: number;
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
export class EnrollmentService {
  constructor(
    private readonly repository: Pick<DeviceIdentityRepository, 'createToken' | 'redeemToken' | 'revoke'>,
    private readonly credentials: Pick<DeviceCredentials, 'invalidate'>,
    private readonly clock: Clock,
    private readonly metrics: Pick<IdentityMetrics, 'enrollments'>,
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
   * the old one stops working here at once.
   */
  async enroll(token: string, claimed?: DeviceRef): Promise<EnrolledDevice> {
    const password = randomBytes(32).toString('base64url');
    const redemption = await this.repository.redeemToken(tokenHash(token), await hashMosquittoPassword(password), this.clock.now(), claimed);
    if ('refused' in redemption) {
      this.metrics.enrollments.inc({ outcome: redemption.refused });
      throw new EnrollmentRefusedError(redemption.refused, redemption.detail);
    }
    const device = redemption.enrolled;
    this.credentials.invalidate({ siteId: device.siteId, deviceId: device.deviceId });
    this.metrics.enrollments.inc({ outcome: 'enrolled' });
    return { ...device, username: deviceUsername(device.siteId, device.deviceId), password };
  }

  async revoke(device: DeviceRef): Promise<{ revokedAt: Date }> {
    const revokedAt = await this.repository.revoke(device, this.clock.now());
    if (!revokedAt) throw new DeviceNotEnrolledError(device.siteId, device.deviceId);
    this.credentials.invalidate(device);
    return { revokedAt };
  }
}
