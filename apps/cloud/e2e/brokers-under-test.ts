import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_MAX_PACKET_BYTES, MqttLink } from '@loupe/mqtt';
import { eventually, freePort } from '@loupe/testing';
import { DeviceAcl, deviceUsername, type DeviceTopics } from '@loupe/topics';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startEmbeddedBroker } from '../src/embedded/embedded-broker';
import { BrokerAccess, generatedServiceAccount, type ServiceAccount } from '../src/fleet/identity/broker-access';
import type { DeviceCredentials } from '../src/fleet/identity/device-credentials';
import type { DeviceIdentityRepository } from '../src/fleet/identity/device-identity.repository';
import type { BrokerAccounts } from '../src/fleet/identity/enrollment.service';
import { IdentityMetrics } from '../src/fleet/identity/identity-metrics';
import { MosquittoConfigService } from '../src/fleet/identity/mosquitto-config.service';
import { MosquittoDynamicSecurity } from '../src/fleet/identity/mosquitto-dynamic-security';

/** One broker enforcing device identity, as a test drives it. */
export interface BrokerUnderTest {
  /** Where devices connect. */
  deviceUrl: string;
  /** The CA devices trust, when they connect over TLS. */
  deviceCa?: Buffer;
  /** Where the cloud's account connects. */
  serviceUrl: string;
  service: ServiceAccount;
  protocolVersion: 4 | 5;
  /** The broker's own device accounts, which enrollment must keep, when it has them. */
  accounts?: BrokerAccounts;
  /** Whatever this broker needs, after devices were enrolled, before they connect. */
  applyEnrollments(): Promise<void>;
  /** Whatever this broker needs, after a device was revoked, to enforce it. */
  applyRevocation(): Promise<void>;
  stop(): Promise<void>;
}

export interface IdentityServices {
  topics: DeviceTopics;
  repository: DeviceIdentityRepository;
  credentials: DeviceCredentials;
}

const nothingToApply = () => Promise.resolve();

/** The cloud's embedded Aedes broker, checking credentials in Postgres as the cloud does. */
export async function embeddedBroker({ topics, credentials }: IdentityServices): Promise<BrokerUnderTest> {
  const service = generatedServiceAccount();
  const access = new BrokerAccess(service, credentials, new DeviceAcl(topics), new IdentityMetrics(new Registry()));
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, maxPacketBytes: DEFAULT_MAX_PACKET_BYTES }, access, pino({ level: 'silent' }));
  credentials.onInvalidated((device) => broker.disconnect(deviceUsername(device.siteId, device.deviceId)));
  return {
    deviceUrl: broker.url,
    serviceUrl: broker.url,
    service,
    protocolVersion: 4,
    applyEnrollments: nothingToApply,
    applyRevocation: nothingToApply,
    stop: () => broker.stop(),
  };
}

export const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';
/** Mosquitto with its dynamic-security plugin and mosquitto_ctrl, as Debian's mosquitto package installs them. */
export const MOSQUITTO_WITH_PLUGIN = [MOSQUITTO, MOSQUITTO_PLUGIN, '/usr/bin/mosquitto_ctrl'];

const INFRA_MOSQUITTO = join(import.meta.dirname, '..', '..', '..', 'infra', 'mosquitto');

/** Started as root, Mosquitto drops to its own user, which cannot read a private temporary folder. */
const asRootIfRoot = (conf: string) => (process.getuid?.() === 0 ? `${conf}user root\n` : conf);

/** A Mosquitto process on `configFile`, restartable; ready once `service` signs in on `serviceUrl`. */
async function mosquittoProcess(configFile: string, serviceUrl: string, service: ServiceAccount) {
  let child: ChildProcess;
  let log = '';
  let exited: Promise<void>;
  const start = async () => {
    log = '';
    child = spawn(MOSQUITTO, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}:\n${log}`);
        await (await mqtt.connectAsync(serviceUrl, { ...service, reconnectPeriod: 0, connectTimeout: 1_000 })).endAsync();
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
  };
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  await start();
  return { start, stop, reload: () => void child.kill('SIGHUP') };
}

/**
 * A real Mosquitto process on the configuration `loupe fleet
 * mosquitto-config` generates, on free ports. Enrollments are applied by
 * generating the files again and restarting Mosquitto; a revocation by
 * generating them and reloading them with SIGHUP, as an operator would.
 */
export async function mosquittoBroker({ topics, repository }: IdentityServices): Promise<BrokerUnderTest> {
  const service = { username: 'loupe-cloud', password: generatedServiceAccount().password };
  const generator = new MosquittoConfigService(repository, service, topics, DEFAULT_MAX_PACKET_BYTES);
  const directory = await mkdtemp(join(tmpdir(), 'loupe-mosquitto-'));
  await mkdir(join(directory, 'data'));
  const [devicePort, servicePort] = [await freePort(), await freePort()];
  const writeConfig = async () => {
    for (const file of (await generator.generate({ directory, devicePort, servicePort })).files) {
      await writeFile(join(directory, file.name), file.name === 'mosquitto.conf' ? asRootIfRoot(file.content) : file.content);
      await chmod(join(directory, file.name), file.mode);
    }
  };
  await writeConfig();
  const serviceUrl = `mqtt://127.0.0.1:${servicePort}`;
  const mosquitto = await mosquittoProcess(join(directory, 'mosquitto.conf'), serviceUrl, service);
  return {
    deviceUrl: `mqtt://127.0.0.1:${devicePort}`,
    serviceUrl,
    service,
    protocolVersion: 5,
    applyEnrollments: async () => {
      await writeConfig();
      await mosquitto.stop();
      await mosquitto.start();
    },
    applyRevocation: async () => {
      await writeConfig();
      mosquitto.reload();
    },
    stop: async () => {
      await mosquitto.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A real Mosquitto on the compose stack's configuration, as `startComposeMosquitto` starts it. */
export interface ComposeMosquitto {
  /** The stack's plain listener, where the cloud connects. */
  serviceUrl: string;
  /** The devices' TLS listener. */
  deviceUrl: string;
  deviceCa: Buffer;
  /** The plugin's admin: the cloud's account. */
  service: ServiceAccount;
  stop(): Promise<void>;
}

/**
 * A real Mosquitto on the compose stack's infra/mosquitto/mosquitto.conf
 * (paths pointed at this test's folders and Debian's plugin, a self-signed
 * certificate, free ports), its plugin data created by the compose stack's
 * init-dynamic-security.sh, as on a first `docker compose up`.
 */
export async function startComposeMosquitto(): Promise<ComposeMosquitto> {
  const service = { username: 'loupe-cloud', password: generatedServiceAccount().password };
  const root = await mkdtemp(join(tmpdir(), 'loupe-mosquitto-'));
  const [data, certs] = [join(root, 'data'), join(root, 'certs')];
  await Promise.all([mkdir(data), mkdir(certs)]);
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(certs, 'server.key'), '-out', join(certs, 'server.crt'),
  ]);
  await promisify(execFile)('sh', [join(INFRA_MOSQUITTO, 'init-dynamic-security.sh')], {
    env: { ...process.env, MQTT_USERNAME: service.username, MQTT_PASSWORD: service.password, DYNAMIC_SECURITY_FILE: join(data, 'dynamic-security.json') },
  });
  const [plainPort, tlsPort] = [await freePort(), await freePort()];
  const conf = (await readFile(join(INFRA_MOSQUITTO, 'mosquitto.conf'), 'utf8'))
    .replaceAll('/usr/lib/mosquitto_dynamic_security.so', MOSQUITTO_PLUGIN)
    .replaceAll('/mosquitto/data', data)
    .replaceAll('/mosquitto/certs', certs)
    .replace(/^listener 1883$/m, `listener ${plainPort} 127.0.0.1`)
    .replace(/^listener 8883$/m, `listener ${tlsPort} 127.0.0.1`);
  const configFile = join(root, 'mosquitto.conf');
  await writeFile(configFile, asRootIfRoot(conf));
  const serviceUrl = `mqtt://127.0.0.1:${plainPort}`;
  const mosquitto = await mosquittoProcess(configFile, serviceUrl, service);
  return {
    serviceUrl,
    deviceUrl: `mqtts://127.0.0.1:${tlsPort}`,
    deviceCa: await readFile(join(certs, 'server.crt')),
    service,
    stop: async () => {
      await mosquitto.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** The compose stack's Mosquitto, with device accounts kept by the cloud's MosquittoDynamicSecurity as devices are enrolled and revoked. */
export async function composeMosquittoBroker({ topics }: IdentityServices): Promise<BrokerUnderTest> {
  const mosquitto = await startComposeMosquitto();
  // What the cloud does at start with MQTT_DEVICE_ACCOUNTS=mosquitto-dynamic-security.
  const link = new MqttLink({
    url: mosquitto.serviceUrl,
    clientId: 'loupe-cloud-dynamic-security',
    ...mosquitto.service,
    persistentSession: false,
    logger: pino({ level: 'silent' }),
  });
  const accounts = new MosquittoDynamicSecurity(link, topics);
  await accounts.listen();
  link.start();
  await link.waitConnected(10_000);
  await accounts.grantService(mosquitto.service.username);
  return {
    deviceUrl: mosquitto.deviceUrl,
    deviceCa: mosquitto.deviceCa,
    serviceUrl: mosquitto.serviceUrl,
    service: mosquitto.service,
    protocolVersion: 5,
    accounts,
    applyEnrollments: nothingToApply,
    applyRevocation: nothingToApply,
    stop: async () => {
      await link.stop();
      await mosquitto.stop();
    },
  };
}
