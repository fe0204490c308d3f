import { access } from 'node:fs/promises';
import { enrollResponseSchema, registryKeysResponseSchema } from '@loupe/api-contracts';
import type { Logger } from 'pino';
import { requestUntilAnswered, type RetryOptions } from './cloud-requests';
import { readCredentialsFile, writeFileAtomically, type DeviceCredentials } from './credentials-file';

export interface EnrollmentSettings {
  /** The cloud's REST API, e.g. https://loupe.example.com. */
  cloudUrl?: string;
  /** A one-time token from POST /api/fleet/enrollment-tokens. */
  token?: string;
  credentialsFile: string;
}

export interface DeviceLoginParts {
  siteId: string;
  deviceId: string;
  /** MQTT_USERNAME and MQTT_PASSWORD, which win over enrolled credentials. */
  configured: { username?: string; password?: string };
  enrollment: EnrollmentSettings;
  /** Where the registry's public keys go, for verifying model packages. */
  registryKeysFile: string;
  log: Logger;
  fetch?: typeof fetch;
  retry?: RetryOptions;
}

/**
 * How the agent signs in to the broker and to package downloads: the
 * configured MQTT_USERNAME/MQTT_PASSWORD if set; else the credentials the
 * box enrolled for; else, on first start with an ENROLLMENT_TOKEN, it
 * enrolls now, waiting for the cloud as long as it takes, keeps the
 * credentials and fetches the registry's keys. Without any of these it
 * connects without credentials, as a broker of the site's own may allow.
 */
export async function deviceLogin(parts: DeviceLoginParts): Promise<{ username?: string; password?: string }> {
  const { configured, enrollment, log } = parts;
  if (configured.username !== undefined) return configured;
  const kept = await readCredentialsFile(enrollment.credentialsFile);
  if (kept) {
    assertSameDevice(kept, parts);
    if (enrollment.cloudUrl && !(await exists(parts.registryKeysFile))) await saveRegistryKeys(enrollment.cloudUrl, parts);
    return { username: kept.username, password: kept.password };
  }
  if (enrollment.token === undefined || enrollment.cloudUrl === undefined) {
    log.info({ credentialsFile: enrollment.credentialsFile }, 'no device credentials and no ENROLLMENT_TOKEN: connecting to the broker without credentials');
    return configured;
  }
  const enrolled = await enroll(enrollment.cloudUrl, enrollment.token, parts);
  // Kept before anything else: the token is used up, and these are the only copy of the secret.
  await writeFileAtomically(enrollment.credentialsFile, `${JSON.stringify(enrolled, null, 2)}\n`, 0o600);
  log.info({ username: enrolled.username, fleetGroup: enrolled.fleetGroup, credentialsFile: enrollment.credentialsFile }, 'enrolled with the cloud');
  await saveRegistryKeys(enrollment.cloudUrl, parts);
  return { username: enrolled.username, password: enrolled.password };
}

async function enroll(cloudUrl: string, token: string, parts: DeviceLoginParts): Promise<DeviceCredentials> {
  const fetchFn = parts.fetch ?? fetch;
  const url = new URL('api/fleet/enroll', withSlash(cloudUrl));
  parts.log.info({ url: url.href }, 'enrolling with the cloud');
  const body = JSON.stringify({ token, siteId: parts.siteId, deviceId: parts.deviceId });
  const answer = await requestUntilAnswered(
    'the enrollment (ENROLLMENT_TOKEN)',
    (signal) => fetchFn(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal }),
    parts.log,
    parts.retry,
  );
  return { ...enrollResponseSchema.parse(answer), enrolledAt: new Date().toISOString() };
}

async function saveRegistryKeys(cloudUrl: string, parts: DeviceLoginParts): Promise<void> {
  const fetchFn = parts.fetch ?? fetch;
  const url = new URL('api/registry/keys', withSlash(cloudUrl));
  const answer = await requestUntilAnswered('fetching the registry keys', (signal) => fetchFn(url, { signal }), parts.log, parts.retry);
  // Kept as the cloud sent it, once it is known to be that shape.
  const keys = registryKeysResponseSchema.parse(answer);
  await writeFileAtomically(parts.registryKeysFile, `${JSON.stringify(keys, null, 2)}\n`, 0o644);
  parts.log.info({ registryKeysFile: parts.registryKeysFile, keys: keys.keys.map((key) => key.keyId) }, 'saved the registry keys');
}

function assertSameDevice(kept: DeviceCredentials, parts: DeviceLoginParts): void {
  if (kept.siteId === parts.siteId && kept.deviceId === parts.deviceId) return;
  throw new Error(
    `DEVICE_CREDENTIALS_FILE ${parts.enrollment.credentialsFile} is for ${kept.siteId}/${kept.deviceId}, but SITE_ID/DEVICE_ID say ` +
      `${parts.siteId}/${parts.deviceId}: set them to match, or enroll this box again with a token for ${parts.siteId}/${parts.deviceId}`,
  );
}

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
