/**
 * `npm start`: the whole system on one machine. The cloud comes up on its
 * embedded defaults (PGlite, Aedes, a blob folder, all under DATA_DIR)
 * unless DATABASE_URL / MQTT_URL / S3_* name real services; then one edge
 * agent connects to the cloud's broker and serves the pcb-defects demo model,
 * and a simulated camera sends it images. Ctrl-C stops them all cleanly;
 * if one exits on its own, the others are stopped too.
 */
import { join, resolve } from 'node:path';
import { AppProcess } from '@loupe/testing';
import { demoAgentEnrollment } from './demo-enrollment';
import { buildLabelerWebIfStale } from './labeler-web-build';
import { LOCAL_ADMIN } from './local-admin';
import { DEMO_PROJECT, LOCAL_LABELER, LOCAL_REVIEWER, localPublisherKey, publishShippedModels, setUpLocalDemo } from './local-demo';
import { formatLogLine } from './log-lines';

const workspace = resolve(import.meta.dirname, '..', '..');
const print = (line: string) => process.stdout.write(`${line}\n`);

const apps: AppProcess[] = [];
let stopping = false;

async function stopAll(exitCode: number): Promise<never> {
  stopping = true;
  while (apps.length > 0) await apps.pop()?.stop();
  process.exit(exitCode);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

function launch(name: string, { entry, tsconfig, env }: { entry: string; tsconfig: string; env: NodeJS.ProcessEnv }): AppProcess {
  const app = new AppProcess({
    name,
    cwd: workspace,
    entry,
    tsconfig,
    env,
    print: (line) => print(formatLogLine(line, name)),
  });
  apps.push(app);
  void app.exited.then((code) => {
    if (stopping) return;
    print(`${name} exited with code ${code}; stopping the local stack`);
    void stopAll(code || 1);
  });
  return app;
}

// The UI builds while the cloud starts; the cloud serves it once written.
let webBuildDone = false;
const webBuilt = buildLabelerWebIfStale(workspace, print).then((ok) => {
  webBuildDone = true;
  return ok;
});

// One machine, one person: a known admin password beats hunting the log for
// a generated one. A shared database gets ADMIN_PASSWORD from its owner.
const admin = { email: process.env.ADMIN_EMAIL || LOCAL_ADMIN.email, password: process.env.ADMIN_PASSWORD || LOCAL_ADMIN.password };
const cloud = launch('cloud', {
  entry: 'apps/cloud/src/main.ts',
  tsconfig: 'apps/cloud/tsconfig.json',
  env: { ...process.env, ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password },
});
// A failed start is reported by the exit handler above (a bad setting names its key).
const ready = await cloud.waitForLog('cloud ready').catch(() => new Promise<never>(() => undefined));
const httpUrl = String(ready.httpUrl);
// With the local admin, this is one person's machine: a labeler, a reviewer
// and a project for the demo model's samples let them try the loop at once.
const localDemo = !process.env.ADMIN_PASSWORD;
const localKeyFile = join(String(ready.dataDir), 'local-publisher.pem');
if (localDemo) {
  await setUpLocalDemo(httpUrl);
  await publishShippedModels(httpUrl, await localPublisherKey(localKeyFile, String(ready.publisherKeysFile)));
}

if (stopping) await new Promise<never>(() => undefined);
const demoDevice = { siteId: process.env.SITE_ID || 'demo-site', deviceId: process.env.DEVICE_ID || 'edge-1' };
const enrollment = await demoAgentEnrollment(httpUrl, admin, demoDevice, String(ready.dataDir));
const agent = launch('edge-agent', {
  entry: 'apps/edge-agent/src/main.ts',
  tsconfig: 'apps/edge-agent/tsconfig.json',
  env: {
    ...process.env,
    // The ready log hides credentials; a configured broker URL keeps them.
    MQTT_URL: process.env.MQTT_URL || String(ready.mqttUrl),
    SITE_ID: demoDevice.siteId,
    DEVICE_ID: demoDevice.deviceId,
    ...enrollment,
    TELEMETRY_INTERVAL: process.env.TELEMETRY_INTERVAL ?? '5s',
    GRPC_HOST: process.env.GRPC_HOST ?? '127.0.0.1',
    EXECUTION_PROVIDERS: process.env.EXECUTION_PROVIDERS ?? 'cpu',
    MODEL_MANIFEST: process.env.MODEL_MANIFEST ?? 'tools/demo/models/pcb-defects/manifest.json',
    // The box's state lives under DATA_DIR with the cloud's: a fresh DATA_DIR is a fresh demo, and a box
    // left from an earlier run (or another demo model) cannot keep serving its old model.
    MODELS_DIR: process.env.MODELS_DIR ?? join(String(ready.dataDir), 'edge', 'models'),
    OUTBOX_DIR: process.env.OUTBOX_DIR ?? join(String(ready.dataDir), 'edge', 'outbox'),
    TENSORRT_ENGINE_CACHE_DIR: process.env.TENSORRT_ENGINE_CACHE_DIR ?? join(String(ready.dataDir), 'edge', 'engine-cache'),
    // A larger random share than the default 1% puts demo images in the
    // labeling queue within seconds, beside those the model is unsure of.
    SAMPLING_POLICY: process.env.SAMPLING_POLICY ?? '{"randomShare":0.2}',
  },
});
const agentReady = await agent.waitForLog('edge agent started').catch(() => new Promise<never>(() => undefined));
const grpcAddress = String(agentReady.grpcAddress);

if (stopping) await new Promise<never>(() => undefined);
launch('camera-sim', {
  entry: 'tools/demo/camera-sim.ts',
  tsconfig: 'tsconfig.json',
  env: { ...process.env, INSPECT_ADDRESS: grpcAddress.replace(/^0\.0\.0\.0:/, '127.0.0.1:') },
});

print(
  [
    '',
    'Loupe is running',
    `  Labeler UI      ${httpUrl}/${webBuildDone ? '' : '  (still building; the page appears when done)'}`,
    `  Sign in as      ${admin.email} / ${process.env.ADMIN_PASSWORD ? '(your ADMIN_PASSWORD)' : admin.password}`,
    ...(localDemo
      ? [
          `  Label as        ${LOCAL_LABELER.email} / ${LOCAL_LABELER.password}  (project "${DEMO_PROJECT.name}")`,
          `  Review as       ${LOCAL_REVIEWER.email} / ${LOCAL_REVIEWER.password}`,
          `  Push models     npx loupe model push <dir> --key ${localKeyFile}  (the demo model is pcb-defects version 1; the default backbone squeezenet-features)`,
        ]
      : []),
    `  REST API docs   ${httpUrl}/api/openapi.json`,
    `  Model registry  ${String(ready.grpcAddress)}  (gRPC, for the loupe CLI and training pipelines)`,
    `  Devices         ${httpUrl}/api/fleet/devices`,
    `  Cloud health    ${httpUrl}/healthz`,
    `  Cloud metrics   ${httpUrl}/metrics`,
    `  MQTT broker     ${String(ready.mqttUrl)}`,
    `  Edge agent      ${String(agentReady.statusUrl)}/healthz`,
    `  Inspect (gRPC)  ${grpcAddress}  (a simulated camera is sending images)`,
    `  Data directory  ${String(ready.dataDir)}`,
    'Press Ctrl-C to stop.',
    '',
  ].join('\n'),
);
if (!webBuildDone) {
  print((await webBuilt) ? `labeler UI built: ${httpUrl}/` : 'the labeler UI did not build (see the errors above); the API works without it');
}
