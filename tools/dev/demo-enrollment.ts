import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { enrollmentTokenSchema } from '@loupe/api-contracts';
import { signedInAsLocalAdmin } from './local-admin';

/**
 * The settings that enroll `npm start`'s edge agent with the local cloud,
 * whose broker admits enrolled devices only. The agent keeps its
 * credentials under the cloud's DATA_DIR, beside the database that knows
 * them, and not at the agent's default path, where they would meet agents
 * of other runs. A box that enrolled on an earlier start needs no new token.
 */
export async function demoAgentEnrollment(
  httpUrl: string,
  admin: { email: string; password: string },
  device: { siteId: string; deviceId: string },
  dataDir: string,
): Promise<Record<string, string>> {
  const credentialsFile = process.env.DEVICE_CREDENTIALS_FILE || join(dataDir, 'demo-agent', 'credentials.json');
  const settings = {
    CLOUD_URL: httpUrl,
    DEVICE_CREDENTIALS_FILE: credentialsFile,
    REGISTRY_KEYS_FILE: process.env.REGISTRY_KEYS_FILE || join(dataDir, 'demo-agent', 'registry-keys.json'),
  };
  const enrolled = await access(credentialsFile).then(
    () => true,
    () => false,
  );
  if (enrolled || process.env.MQTT_USERNAME) return settings;
  const session = (await signedInAsLocalAdmin(httpUrl, admin)).headers as Record<string, string>;
  const response = await fetch(`${httpUrl}/api/fleet/enrollment-tokens`, {
    method: 'POST',
    headers: { ...session, 'content-type': 'application/json' },
    body: JSON.stringify({ ...device, fleetGroup: 'demo' }),
  });
  if (response.status !== 201) throw new Error(`an enrollment token for the demo agent answered ${response.status}: ${await response.text()}`);
  return { ...settings, ENROLLMENT_TOKEN: enrollmentTokenSchema.parse(await response.json()).token };
}
