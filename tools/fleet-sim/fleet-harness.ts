import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { publicKeyToPem, signedPackage, type SigningKey } from '@loupe/model-package';
import type { ModelVersion } from '@loupe/device-state';
import { startCloudProcess, type CloudProcess, type TestBroker, type TestDatabase } from '@loupe/testing';

const DEMO_MODEL = resolve(import.meta.dirname, '..', 'demo', 'models', 'pcb-aoi');

/** A cloud process for fleet tests and benchmarks, trusting `publisher`, with a quick rollout reconciler. */
export async function startFleetCloud(options: {
  database: TestDatabase;
  broker: TestBroker;
  dataDir: string;
  publisher: SigningKey;
  env?: NodeJS.ProcessEnv;
  print?: (line: string) => void;
}): Promise<CloudProcess> {
  await mkdir(options.dataDir, { recursive: true });
  const publisherKeysFile = join(options.dataDir, 'publishers.pem');
  await writeFile(publisherKeysFile, publicKeyToPem(options.publisher.publicKey));
  return startCloudProcess({
    database: options.database,
    broker: options.broker,
    dataDir: options.dataDir,
    poolSize: Math.min(8, options.database.maxConnections),
    print: options.print,
    env: { REGISTRY_PUBLISHER_KEYS_FILE: publisherKeysFile, ROLLOUT_TICK: '200ms', ROLLOUT_LEADER_TTL: '2s', ...options.env },
  });
}

/** Pushes the demo pcb-aoi model `count` times: versions 1..count of one real, validated package. Returns version 1 as devices report it. */
export async function pushDemoVersions(cloud: CloudProcess, publisher: SigningKey, count: number): Promise<ModelVersion> {
  const directory = await mkdtemp(join(tmpdir(), 'loupe-fleet-model-'));
  try {
    for (const file of ['manifest.json', 'pcb-aoi.opset11.onnx', 'sample-images']) await cp(join(DEMO_MODEL, file), join(directory, file), { recursive: true });
    const { bytes } = await signedPackage(directory, publisher);
    let first: ModelVersion | undefined;
    for (let i = 0; i < count; i++) {
      const response = await fetch(`${cloud.httpUrl}/api/models`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cloud.admin.token}`, 'content-type': 'application/x-tar' },
        body: bytes,
      });
      if (response.status !== 201) throw new Error(`pushing pcb-aoi answered ${response.status}: ${await response.text()}`);
      const version = (await response.json()) as { version: number; manifest: { files: { path: string; sha256: string }[] } };
      const onnx = version.manifest.files.find((file) => file.path.endsWith('.onnx'))!;
      first ??= { name: 'pcb-aoi', version: String(version.version), sha256: onnx.sha256 };
    }
    return first!;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** `count` devices in `group`, spread over sites of ten, for a simulated fleet. */
export function fleetOf(group: string, count: number): { siteId: string; deviceId: string }[] {
  return Array.from({ length: count }, (_, i) => ({ siteId: `${group}-site-${Math.floor(i / 10)}`, deviceId: `box-${String(i).padStart(4, '0')}` }));
}

export interface EnrolledDevice {
  siteId: string;
  deviceId: string;
  username: string;
  password: string;
}

/**
 * Enrolls devices into a fleet group the way a line engineer does: a
 * one-time token per device from the admin, redeemed by the device for its
 * credentials. Sixteen at a time, so thousands take seconds.
 */
export async function enrollFleet(cloud: CloudProcess, group: string, devices: { siteId: string; deviceId: string }[]): Promise<EnrolledDevice[]> {
  const enrolled: EnrolledDevice[] = [];
  let next = 0;
  const worker = async () => {
    while (next < devices.length) {
      const device = devices[next++]!;
      const { token } = await cloud.call<{ token: string }>('POST', '/api/fleet/enrollment-tokens', { ...device, fleetGroup: group });
      const credentials = await cloud.call<{ username: string; password: string }>('POST', '/api/fleet/enroll', { token, ...device });
      enrolled.push({ ...device, username: credentials.username, password: credentials.password });
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, devices.length) }, worker));
  return enrolled;
}
