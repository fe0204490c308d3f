import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually, freePort } from '@loupe/testing';
import { DeviceAcl, deviceUsername, type DeviceTopics } from '@loupe/topics';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startEmbeddedBroker } from '../src/embedded/embedded-broker';
import { BrokerAccess, generatedServiceAccount, type ServiceAccount } from '../src/fleet/identity/broker-access';
import type { DeviceCredentials } from '../src/fleet/identity/device-credentials';
import type { DeviceIdentityRepository, DeviceRef } from '../src/fleet/identity/device-identity.repository';
import type { EnrollmentService } from '../src/fleet/identity/enrollment.service';
import { IdentityMetrics } from '../src/fleet/identity/identity-metrics';
import { MosquittoConfigService } from '../src/fleet/identity/mosquitto-config.service';

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
  /** Revokes the device and does whatever this broker needs to enforce it. */
  revoke(device: DeviceRef): Promise<void>;
  stop(): Promise<void>;
}

export interface IdentityServices {
  topics: DeviceTopics;
  repository: DeviceIdentityRepository;
  credentials: DeviceCredentials;
  enrollment: EnrollmentService;
}

/** The cloud's embedded Aedes broker, checking credentials in Postgres as the cloud does. */
export async function embeddedBroker({ topics, credentials, enrollment }: IdentityServices): Promise<BrokerUnderTest> {
  const service = generatedServiceAccount();
  const access = new BrokerAccess(service, credentials, new DeviceAcl(topics), new IdentityMetrics(new Registry()));
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 }, access, pino({ level: 'silent' }));
  credentials.onInvalidated((device) => broker.disconnect(deviceUsername(device.siteId, device.deviceId)));
  return {
    deviceUrl: broker.url,
    serviceUrl: broker.url,
    service,
    protocolVersion: 4,
    revoke: async (device) => {
      await enrollment.revoke(device);
    },
    stop: () => broker.stop(),
  };
}

export const MOSQUITTO = '/usr/sbin/mosquitto';

const COMPOSE_MOSQUITTO_CONF = join(import.meta.dirname, '..', '..', '..', 'infra', 'mosquitto', 'mosquitto.conf');

/**
 * A real Mosquitto process on the configuration `loupe fleet
 * mosquitto-config` generates, on free ports. A revocation regenerates the
 * files and reloads them with SIGHUP, as an operator would. With `compose`,
 * the files are loaded through infra/mosquitto/mosquitto.conf, the compose
 * stack's broker configuration, and devices connect over its TLS listener.
 */
export async function mosquittoBroker({ topics, repository, enrollment }: IdentityServices, { compose = false } = {}): Promise<BrokerUnderTest> {
  const service = { username: 'loupe-cloud', password: generatedServiceAccount().password };
  const generator = new MosquittoConfigService(repository, service, topics);
  const root = await mkdtemp(join(tmpdir(), 'loupe-mosquitto-'));
  const directory = compose ? join(root, 'loupe') : root;
  await mkdir(join(directory, 'data'), { recursive: true });
  const [devicePort, servicePort, tlsPort] = [await freePort(), await freePort(), await freePort()];
  const writeConfig = async () => {
    for (const file of (await generator.generate({ directory, devicePort, servicePort })).files) {
      // Started as root, Mosquitto drops to its own user, which cannot read this private temporary folder.
      const content = file.name === 'mosquitto.conf' && process.getuid?.() === 0 ? `${file.content}user root\n` : file.content;
      await writeFile(join(directory, file.name), content);
      await chmod(join(directory, file.name), file.mode);
    }
  };
  let configFile = join(directory, 'mosquitto.conf');
  let deviceCa: Buffer | undefined;
  if (compose) {
    const certs = join(root, 'certs');
    await mkdir(certs);
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(certs, 'server.key'), '-out', join(certs, 'server.crt'),
    ]);
    deviceCa = await readFile(join(certs, 'server.crt'));
    // The compose file mounts these paths; here they are this test's folders and a free port.
    const composeConf = (await readFile(COMPOSE_MOSQUITTO_CONF, 'utf8'))
      .replaceAll('/mosquitto/loupe', directory)
      .replaceAll('/mosquitto/certs', certs)
      .replace(/^listener 8883$/m, `listener ${tlsPort}`);
    configFile = join(root, 'compose-mosquitto.conf');
    await writeFile(configFile, composeConf);
  }
  await writeConfig();

  let log = '';
  const child = spawn(MOSQUITTO, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const serviceUrl = `mqtt://127.0.0.1:${servicePort}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}:\n${log}`);
      await (await mqtt.connectAsync(serviceUrl, { ...service, reconnectPeriod: 0, connectTimeout: 1_000 })).endAsync();
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
  return {
    deviceUrl: compose ? `mqtts://127.0.0.1:${tlsPort}` : `mqtt://127.0.0.1:${devicePort}`,
    ...(deviceCa ? { deviceCa } : {}),
    serviceUrl,
    service,
    protocolVersion: 5,
    revoke: async (device) => {
      await enrollment.revoke(device);
      await writeConfig();
      child.kill('SIGHUP');
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}
