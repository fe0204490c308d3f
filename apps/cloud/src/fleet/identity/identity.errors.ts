import { DomainError } from '@loupe/service';

/** Why an enrollment token was refused; the agent logs it, so each says what to do. */
export type EnrollmentRefusal = 'token-unknown' | 'token-used' | 'token-expired' | 'token-for-another-device';

const ADVICE: Record<EnrollmentRefusal, string> = {
  'token-unknown': 'no such enrollment token; check it was copied whole, or ask an admin for a new one',
  'token-used':
    'this enrollment token was used already; a box that lost its credentials file needs a new token (POST /api/fleet/enrollment-tokens)',
  'token-expired': 'this enrollment token has expired; ask an admin for a new one',
  'token-for-another-device': 'this enrollment token is for another device',
};

/** An enrollment token that cannot enroll (HTTP 403, with the reason as `error`). Nothing was changed. */
export class EnrollmentRefusedError extends DomainError {
  readonly kind = 'forbidden';
  constructor(
    override readonly reason: EnrollmentRefusal,
    detail = '',
  ) {
    super(`${ADVICE[reason]}${detail ? ` (${detail})` : ''}`);
  }
}

/** Revoking a device that has no credentials (HTTP 404). */
export class DeviceNotEnrolledError extends DomainError {
  readonly kind = 'not_found';
  constructor(siteId: string, deviceId: string) {
    super(`device ${siteId}/${deviceId} is not enrolled; any unused enrollment token for it no longer works`);
  }
}

/** The broker configuration cannot be generated as the cloud is configured (HTTP 409). */
export class BrokerConfigUnavailableError extends DomainError {
  readonly kind = 'conflict';
}
