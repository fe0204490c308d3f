import { isTopicSegment } from '@loupe/topics';
import { z } from 'zod';

const segment = (name: string) =>
  z
    .string({ message: `${name} is required` })
    .refine(isTopicSegment, `${name} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);

const DAY_SECONDS = 24 * 3600;

/** `POST /api/fleet/enrollment-tokens` (admin, engineer): a one-time token that enrolls one device. */
export const createEnrollmentTokenRequestSchema = z.object({
  siteId: segment('siteId'),
  deviceId: segment('deviceId'),
  /** Which rollouts reach the device. */
  fleetGroup: segment('fleetGroup').default('default'),
  ttlSeconds: z
    .number()
    .int()
    .min(60, 'ttlSeconds must be at least 60')
    .max(30 * DAY_SECONDS, 'ttlSeconds must be at most 30 days (2592000)')
    .default(DAY_SECONDS),
});
export type CreateEnrollmentTokenRequest = z.input<typeof createEnrollmentTokenRequestSchema>;

export const enrollmentTokenSchema = z.object({
  /** Shown once: the cloud keeps only its SHA-256. Give it to the box as ENROLLMENT_TOKEN. */
  token: z.string(),
  siteId: z.string(),
  deviceId: z.string(),
  fleetGroup: z.string(),
  expiresAt: z.iso.datetime(),
});
export type EnrollmentTokenDto = z.infer<typeof enrollmentTokenSchema>;

/** `POST /api/fleet/enroll` (public; the token is the credential). */
export const enrollRequestSchema = z
  .object({
    token: z.string({ message: 'token is required' }).min(1, 'token is required').max(200, 'token is at most 200 characters'),
    /** The identity the box is configured with; when given, a token for another device is refused without being used. */
    siteId: segment('siteId').optional(),
    deviceId: segment('deviceId').optional(),
  })
  .refine((body) => (body.siteId === undefined) === (body.deviceId === undefined), 'siteId and deviceId are given together or not at all');

export const enrollResponseSchema = z.object({
  siteId: z.string(),
  deviceId: z.string(),
  fleetGroup: z.string(),
  /** `{siteId}/{deviceId}`: the MQTT user name, the only client id the device may use, and its HTTP Basic user. */
  username: z.string(),
  /** The device's secret; shown once. */
  password: z.string(),
});
export type EnrollResponse = z.infer<typeof enrollResponseSchema>;

/** `POST /api/fleet/devices/{siteId}/{deviceId}/revoke` (admin) */
export const revokeDeviceResponseSchema = z.object({
  siteId: z.string(),
  deviceId: z.string(),
  revokedAt: z.iso.datetime(),
});

const port = (name: string, fallback: number) =>
  z.coerce
    .number({ message: `${name} must be a port number` })
    .int(`${name} must be a port number`)
    .min(1, `${name} must be a port number from 1 to 65535`)
    .max(65_535, `${name} must be a port number from 1 to 65535`)
    .default(fallback);

/** `GET /api/fleet/mosquitto-config` (admin) query. */
export const mosquittoConfigQuerySchema = z
  .object({
    /** Where the files will live on the broker's host; mosquitto.conf names them by absolute path. */
    directory: z
      .string({ message: 'directory is required: the absolute path the files will have on the broker host' })
      .regex(/^\/\S*$/, 'directory must be an absolute path without spaces on the broker host, e.g. /etc/mosquitto/loupe'),
    /** The listener devices connect to. */
    devicePort: port('devicePort', 1883),
    /** The listener the cloud connects to, with its own account only; keep it off the devices' network. */
    servicePort: port('servicePort', 1885),
  })
  .refine((query) => query.devicePort !== query.servicePort, 'devicePort and servicePort must differ');

export const mosquittoConfigResponseSchema = z.object({
  /** Enrolled devices that may sign in. */
  devices: z.number().int(),
  files: z.array(z.object({ name: z.string(), mode: z.number().int(), content: z.string() })),
});
export type MosquittoConfigResponse = z.infer<typeof mosquittoConfigResponseSchema>;
