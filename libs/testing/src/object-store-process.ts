import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { freePort } from './free-port';
import { s3ClientFor, type TestObjectStore } from './test-object-store';
import { uniqueName } from './unique-name';
import { waitForPort } from './wait-for-port';

export interface ObjectStoreProcess extends TestObjectStore {
  kind: 's3rver';
  writes: ReadonlyMap<string, number>;
  /** SIGKILL: requests in progress fail mid-way; what it had stored stays in its folder. */
  kill(): Promise<void>;
  /** Starts it again on the same port and folder. */
  restart(): Promise<void>;
}

/**
 * An S3-protocol store of its own (s3rver) in a separate process, for tests
 * that kill it mid-stream. `writes` counts every write of each key across
 * restarts, as the process reports them.
 */
export async function startObjectStoreProcess(): Promise<ObjectStoreProcess> {
  const [port, directory] = await Promise.all([freePort(), mkdtemp(join(tmpdir(), 'loupe-s3-process-'))]);
  const bucket = uniqueName('loupe-test');
  const writes = new Map<string, number>();
  const launch = async () => {
    const started = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 's3rver.process.ts'), String(port), directory, bucket], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    createInterface({ input: started.stdout }).on('line', (line) => {
      const { written } = JSON.parse(line) as { written: string };
      writes.set(written, (writes.get(written) ?? 0) + 1);
    });
    await waitForPort(port, 's3rver');
    return started;
  };
  let child: ChildProcess = await launch();
  const store = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    bucket,
  };
  const client = s3ClientFor(store);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    ...store,
    kind: 's3rver',
    writes,
    kill,
    restart: async () => {
      child = await launch();
    },
    stop: async () => {
      await kill();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
