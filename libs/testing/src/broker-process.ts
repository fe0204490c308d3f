import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './free-port';

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

/**
 * A broker of its own, in a separate process, for tests that kill it
 * mid-stream. Mosquitto when installed (as on CI), without persistence;
 * otherwise an Aedes broker in a Node process.
 */
export async function startBrokerProcess(): Promise<BrokerProcess> {
  const port = await freePort();
  const mosquitto = MOSQUITTO_PATHS.find((path) => existsSync(path));
  const launch = (): ChildProcess =>
    mosquitto
      ? spawn(mosquitto, ['-p', String(port)], { stdio: 'ignore' })
      : spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'aedes-broker.process.ts'), String(port)], { stdio: 'ignore' });
  let child = launch();
  await waitForPort(port);
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
      await waitForPort(port);
    },
    stop: kill,
  };
}

async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`broker did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
