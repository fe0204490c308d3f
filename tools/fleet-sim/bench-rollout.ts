/**
 * `npm run bench:rollout`: BENCH_DEVICES (default 2,000) simulated boxes on
 * one broker (MQTT_URL, else an in-process one) and one cloud process on
 * DATABASE_URL (else the embedded database), bake times zero.
 *
 * (a) baseline: the bench sends every box a desired state that needs no
 *     change and waits for all the reports: the broker round trip alone.
 * (b) rollout: a good version through canary, 10%, 50% and 100%: time from
 *     start to every box reporting it.
 * (c) rollback: a version whose uncertain-sample rate doubles, on a 5%
 *     canary: time from the failed gate to every canary back on the old
 *     version.
 * The cloud's CPU during (b), per device per minute, is an upper bound on the
 * reconciler's: the same process also consumes every report and telemetry.
 * Targets: rollout under 60 s, rollback within 10 s. The last line is JSON.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceDto, RolloutDetailDto, RolloutDto } from '@loupe/api-contracts';
import { generateSigningKey } from '@loupe/model-package';
import { desiredStateToWire } from '@loupe/device-state';
import { DesiredState } from '@loupe/proto';
import { eventually, startTestBroker, startTestDatabase } from '@loupe/testing';
import { DeviceTopics } from '@loupe/topics';
import mqtt from 'mqtt';
import { brokerProtocol, FleetSimulator } from './fleet-simulator';
import { enrollFleet, fleetOf, pushDemoVersions, startFleetCloud } from './fleet-harness';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 2_000);
const GROUP = 'bench';

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

/** utime + stime of a process, in ms (Linux). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000) / 100;
}

const seconds = (ms: number) => Math.round(ms / 10) / 100;

/** The cloud's warnings, errors and anything not a log line (a crash's stack): why it stopped answering, if it does. */
function printCloudTrouble(line: string): void {
  if (!line.startsWith('{"level":"info"')) process.stderr.write(`cloud: ${line}\n`);
}

type FleetCloud = Awaited<ReturnType<typeof startFleetCloud>>;
type Devices = Awaited<ReturnType<typeof enrollFleet>>;
type Model = Awaited<ReturnType<typeof pushDemoVersions>>;

/** Enrolls and connects the simulated fleet, and waits until every box has said what it runs, so a rollout knows where it starts. */
async function connectFleet(cloud: FleetCloud, broker: { url: string; topicRoot: string; kind: string }, v1: Model): Promise<{ fleet: FleetSimulator; devices: Devices }> {
  const enrollStarted = performance.now();
  const devices = await enrollFleet(cloud, GROUP, fleetOf(GROUP, DEVICES));
  log(`enrolled ${DEVICES} devices in ${seconds(performance.now() - enrollStarted)} s`);
  log(`connecting ${DEVICES} simulated devices to ${broker.kind === 'external' ? broker.url : 'an in-process broker'}`);
  const connectStarted = performance.now();
  const fleet = await FleetSimulator.start({
    brokerUrl: broker.url,
    topicRoot: broker.topicRoot,
    devices,
    initialModel: v1,
    behaviours: { '3': 'uncertain' },
    telemetryIntervalMs: 5_000,
    inspectionsPerTelemetry: 200,
    updateMs: 20,
  });
  log(`  connected in ${seconds(performance.now() - connectStarted)} s`);
  await eventually(async () => {
    const { devices: known } = await cloud.call<{ devices: DeviceDto[] }>('GET', `/api/fleet/devices?group=${GROUP}`);
    const reported = known.filter((device) => device.reported !== null).length;
    if (reported < DEVICES) throw new Error(`${reported} of ${DEVICES} devices reported`);
  }, { timeoutMs: 120_000, intervalMs: 500 });
  return { fleet, devices };
}

/** (b): a good version through every stage; time until the last box runs it, and the cloud's CPU meanwhile. */
async function measureRollout(cloud: FleetCloud, sim: FleetSimulator, devices: Devices): Promise<{ rolloutMs: number; cpuMs: number }> {
  const cpuBefore = await cpuMs(cloud.app.pid!);
  const rolloutStarted = Date.now();
  const good = await cloud.call<RolloutDto>('POST', '/api/rollouts', {
    model: 'pcb-aoi',
    version: 2,
    fleetGroup: GROUP,
    plan: {
      stages: [
        { name: 'canary', devices: devices.slice(0, 10).map((d) => `${d.siteId}/${d.deviceId}`), bakeSeconds: 0 },
        { name: '10%', percent: 10, bakeSeconds: 0 },
        { name: '50%', percent: 50, bakeSeconds: 0 },
        { name: 'all', percent: 100, bakeSeconds: 0 },
      ],
      maxUpdating: DEVICES,
      gates: { minInspections: 200, dataTimeoutSeconds: 60 },
    },
  });
  await eventually(() => {
    if (sim.devicesOn('2').length < DEVICES) throw new Error(`${sim.devicesOn('2').length} of ${DEVICES} on version 2`);
  }, { timeoutMs: 600_000, intervalMs: 100 });
  const rolloutMs = Math.max(...sim.events.filter((e) => e.kind === 'activated' && e.version === '2').map((e) => e.at)) - rolloutStarted;
  const cpuDuring = (await cpuMs(cloud.app.pid!)) - cpuBefore;
  const done = await eventually(async () => {
    const detail = await cloud.call<RolloutDetailDto>('GET', `/api/rollouts/${good.id}`);
    if (detail.state !== 'succeeded') throw new Error(`rollout is ${detail.state}`);
    return detail;
  }, { timeoutMs: 60_000, intervalMs: 200 });
  log(`(b) rollout to ${DEVICES} devices in ${done.plan.stages.length} stages: ${seconds(rolloutMs)} s; cloud CPU ${Math.round(cpuDuring)} ms`);
  return { rolloutMs, cpuMs: cpuDuring };
}

/** (c): a version that doubles the uncertain rate, on a 5% canary; time from the failed gate until every canary is back. */
async function measureRollback(cloud: FleetCloud, sim: FleetSimulator): Promise<{ rollbackMs: number; canaries: number }> {
  const bad = await cloud.call<RolloutDto>('POST', '/api/rollouts', {
    model: 'pcb-aoi',
    version: 3,
    fleetGroup: GROUP,
    plan: { stages: [{ name: '5%', percent: 5, bakeSeconds: 0 }, { name: 'all', percent: 100, bakeSeconds: 0 }], maxUpdating: DEVICES, gates: { minInspections: 200, dataTimeoutSeconds: 60 } },
  });
  const rolledBack = await eventually(async () => {
    const detail = await cloud.call<RolloutDetailDto>('GET', `/api/rollouts/${bad.id}`);
    if (detail.state !== 'rolled_back') throw new Error(`rollout is ${detail.state}`);
    return detail;
  }, { timeoutMs: 300_000, intervalMs: 200 });
  const gateFailed = rolledBack.events.find((event) => event.action === 'gate-failed')!;
  const canaries = rolledBack.devices.filter((device) => device.state === 'reverted').length;
  const reverts = sim.events.filter((e) => e.kind === 'reverted' && e.version === '2').map((e) => e.at);
  const rollbackMs = Math.max(...reverts) - Date.parse(gateFailed.at);
  log(`(c) gate failed (${String(gateFailed.detail.failed)}) on ${canaries} canaries; all back on version 2 within ${seconds(rollbackMs)} s`);
  return { rollbackMs, canaries };
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL && DEVICES > 200) {
    // Without it the cloud gets the in-memory PGlite, one session for every
    // report of the fleet: 2,000 devices did not finish a rollout in 10 minutes.
    console.error(`bench:rollout with ${DEVICES} devices needs a real PostgreSQL: set DATABASE_URL (and MQTT_URL for a real broker), or BENCH_DEVICES=200 or fewer`);
    process.exit(2);
  }
  const [database, broker] = await Promise.all([startTestDatabase(), startTestBroker()]);
  const dataDir = await mkdtemp(join(tmpdir(), 'loupe-bench-rollout-'));
  const publisher = generateSigningKey();
  const cloud = await startFleetCloud({ database, broker, dataDir, publisher, env: { ROLLOUT_TICK: '250ms' }, print: printCloudTrouble });
  let fleet: FleetSimulator | undefined;
  try {
    const v1 = await pushDemoVersions(cloud, publisher, 3);
    const connected = await connectFleet(cloud, broker, v1);
    fleet = connected.fleet;
    const baselineMs = await roundTrip(broker.url, broker.topicRoot, connected.devices, v1);
    log(`(a) baseline: desired state to every device and all ${DEVICES} reports back: ${seconds(baselineMs)} s`);
    const rollout = await measureRollout(cloud, fleet, connected.devices);
    const rollback = await measureRollback(cloud, fleet);
    const cpuPerDeviceMinute = rollout.cpuMs / DEVICES / (rollout.rolloutMs / 60_000);
    const result = {
      devices: DEVICES,
      baseline_round_trip_s: seconds(baselineMs),
      rollout_s: seconds(rollout.rolloutMs),
      rollout_vs_baseline: Math.round((rollout.rolloutMs / baselineMs) * 100) / 100,
      rollback_s: seconds(rollback.rollbackMs),
      rollback_canaries: rollback.canaries,
      controller_cpu_ms_per_device_min: Math.round(cpuPerDeviceMinute * 100) / 100,
      targets: { rollout_s: 60, rollback_s: 10 },
      met: rollout.rolloutMs < 60_000 && rollback.rollbackMs <= 10_000,
    };
    log(JSON.stringify(result));
  } finally {
    await fleet?.stop();
    await cloud.app.stop();
    await Promise.all([database.stop(), broker.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The broker alone: a desired state that changes nothing to every device, until every report is back. */
async function roundTrip(brokerUrl: string, topicRoot: string, devices: { siteId: string; deviceId: string }[], model: { name: string; version: string; sha256: string }): Promise<number> {
  const topics = new DeviceTopics(topicRoot);
  const client = await mqtt.connectAsync(brokerUrl, { protocolVersion: await brokerProtocol(brokerUrl), clean: true });
  try {
    const waiting = new Set(devices.map((d) => `${d.siteId}/${d.deviceId}`));
    const allBack = new Promise<void>((resolve) =>
      client.on('message', (topic) => {
        const parsed = topics.parse(topic);
        if (parsed) waiting.delete(`${parsed.siteId}/${parsed.deviceId}`);
        if (waiting.size === 0) resolve();
      }),
    );
    // QoS 0: a burst of thousands of QoS 1 reports overflows the broker's queue for one subscriber (max_queued_messages).
    await client.subscribeAsync(topics.allDevices('reported'), { qos: 0 });
    const started = performance.now();
    // Generation 1: above what the boxes have seen, below anything the cloud will send.
    const payload = Buffer.from(
      DesiredState.encode(desiredStateToWire({ generation: 1, model, package: { url: 'http://127.0.0.1/unused', size: 1, sha256: '0'.repeat(64) }, rolloutId: '' })).finish(),
    );
    await Promise.all(devices.map((d) => client.publishAsync(topics.forDevice(d.siteId, d.deviceId, 'desired'), payload, { qos: 1 })));
    await allBack;
    return performance.now() - started;
  } finally {
    await client.endAsync();
  }
}

await main();
