import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port';
import { waitForPort } from './wait-for-port';

export interface BrokerProcess {
  url: string;
  /** `mosquitto` when the machine has it (MQTT 5), `aedes` otherwise (MQTT 3.1.1). */
  kind: 'mosquitto' | 'aedes';
  /** SIGKILL: the broker loses every session and queued message it held in memory. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const MOSQUITTO_PATHS = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'];

/** Where the machine's mosquitto binary is, if it has one. */
export function mosquittoPath(): string | undefined {
  return MOSQUITTO_PATHS.find((path) => existsSync(path));
}

/**
 * A broker of its own, in a separate process, for tests that kill it
 * mid-stream. Mosquitto when installed (as on CI), without persistence;
 * otherwise an Aedes broker in a Node process.
 */
export async function startBrokerProcess(): Promise<BrokerProcess> {
  const port = await freePort();
  const mosquitto = mosquittoPath();
  const launch = (): ChildProcess =>
    mosquitto
      ? spawn(mosquitto, ['-p', String(port)], { stdio: 'ignore' })
      : spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'aedes-broker.process.ts'), String(port)], { stdio: 'ignore' });
  let child = launch();
  await waitForPort(port, 'broker');
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kind: mosquitto ? 'mosquitto' : 'aedes',
    kill,
    restart: async () => {
      child = launch();
      await waitForPort(port, 'broker');
    },
    stop: kill,
  };
}

