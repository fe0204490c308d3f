import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import {
  describePackage,
  packedPackage,
  publicKeyToPem,
  signingKeyFromPem,
  TrustedKeys,
  unpackPackage,
  verifyPackage,
  writePackageManifest,
} from '@loupe/model-package';
import { startCloudProcess, startTestBroker, startTestDatabase, type CloudProcess, type TestBroker, type TestDatabase } from '@loupe/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli';

const workspace = resolve(import.meta.dirname, '..', '..', '..');
const PCB_AOI = join(workspace, 'tools', 'demo', 'models', 'pcb-aoi');
const ENGINEER = { email: 'eve@cli.test', password: 'eve-engineer-password', name: 'Eve', role: 'engineer' };

describe('loupe model, against a running cloud', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let scratch: string;
  let cloud: CloudProcess;
  let httpUrl: string;
  let grpcAddress: string;
  let token: string;

  /** Runs one command line in-process; returns its exit code and what it printed. */
  async function loupe(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      fetch: (input, init) => fetch(input, init),
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      now: () => new Date(),
      env: { LOUPE_TOKEN: token, LOUPE_REGISTRY: grpcAddress, LOUPE_CLOUD_URL: httpUrl },
    });
    return { code, stdout, stderr };
  }

  /** `loupe session login` with the password on "standard input"; returns the token it exports. */
  async function signIn(): Promise<string> {
    let stdout = '';
    const code = await runCli(['session', 'login', '--email', ENGINEER.email, '--cloud-url', httpUrl], {
      fetch: (input, init) => fetch(input, init),
      stdout: (text) => void (stdout += text),
      stderr: () => undefined,
      now: () => new Date(),
      env: {},
      readLine: () => Promise.resolve(`${ENGINEER.password}\n`),
    });
    expect(code).toBe(0);
    return /^export LOUPE_TOKEN=(\S+)$/m.exec(stdout)?.[1] ?? '';
  }

  async function modelCopy(): Promise<string> {
    const directory = await mkdtemp(join(scratch, 'model-'));
    for (const file of ['manifest.json', 'pcb-aoi.opset11.onnx', 'sample-images']) await cp(join(PCB_AOI, file), join(directory, file), { recursive: true });
    return directory;
  }

  beforeAll(async () => {
    [database, broker] = await Promise.all([startTestDatabase(), startTestBroker()]);
    scratch = await mkdtemp(join(tmpdir(), 'loupe-cli-'));
    // The publisher's key is made with the CLI, and the cloud trusts it from the start.
    expect((await loupe('model', 'keygen', '--out', join(scratch, 'publisher.pem'))).code).toBe(0);
    const publisher = signingKeyFromPem(await readFile(join(scratch, 'publisher.pem'), 'utf8'));
    await writeFile(join(scratch, 'publishers.pem'), publicKeyToPem(publisher.publicKey));
    cloud = await startCloudProcess({
      database,
      broker,
      dataDir: scratch,
      poolSize: database.maxConnections,
      env: { REGISTRY_PUBLISHER_KEYS_FILE: join(scratch, 'publishers.pem') },
    });
    httpUrl = cloud.httpUrl;
    grpcAddress = cloud.grpcAddress;
    await cloud.post('/api/users', ENGINEER, cloud.admin.token);
    const login = await loupe('session', 'login', '--email', ENGINEER.email, '--cloud-url', httpUrl);
    expect(login.code).toBe(2);
    expect(login.stderr).toMatch(/no password: set LOUPE_PASSWORD or pipe it in/);
    token = await signIn();
  }, 120_000);

  afterAll(async () => {
    await cloud?.app.stop('SIGTERM');
    await Promise.all([database?.stop(), broker?.stop()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('signs and pushes a model directory, lists, shows, promotes and downloads it', async () => {
    const pushed = await loupe('model', 'push', await modelCopy(), '--key', join(scratch, 'publisher.pem'), '--metrics', '{"accuracy":0.97}', '--notes', 'first cut', '--json');
    expect(pushed.code).toBe(0);
    const { version } = JSON.parse(pushed.stdout) as { version: number };
    expect(JSON.parse(pushed.stdout)).toMatchObject({ name: 'pcb-aoi', metrics: { accuracy: 0.97 }, notes: 'first cut', author: ENGINEER.email });
    expect(pushed.stderr).toMatch(/uploading: .*\(100%\)/);

    const listed = JSON.parse((await loupe('model', 'list', '--json')).stdout) as { name: string; latestVersion: number }[];
    expect(listed.find((model) => model.name === 'pcb-aoi')?.latestVersion).toBeGreaterThanOrEqual(version);
    const promoted = await loupe('model', 'promote', 'pcb-aoi', String(version), '--alias', 'production', '--reason', 'passed the line trial');
    expect(promoted).toMatchObject({ code: 0, stdout: `production -> pcb-aoi version ${version}\n` });
    const shown = await loupe('model', 'show', 'pcb-aoi', String(version));
    expect(shown.stdout).toMatch(/aliases {3}production/);
    expect(shown.stdout).toMatch(/validated on cpu: 2 golden samples/);

    const out = join(scratch, 'downloaded.tar');
    const downloaded = await loupe('model', 'download', 'pcb-aoi', String(version), '--out', out);
    expect(downloaded.code).toBe(0);
    const keys = (await (await fetch(`${httpUrl}/api/registry/keys`)).json()) as { keys: { publicKeyPem: string }[] };
    const unpacked = join(await mkdtemp(join(scratch, 'unpacked-')), 'package');
    await unpackPackage(Readable.from(await readFile(out)), unpacked);
    expect((await verifyPackage(unpacked, new TrustedKeys(keys.keys.map((key) => key.publicKeyPem)))).model.version).toBe(String(version));
  }, 60_000);

  it('accepts a publisher added to the keys file while the cloud runs', async () => {
    const keyFile = join(scratch, 'new-publisher.pem');
    expect((await loupe('model', 'keygen', '--out', keyFile)).code).toBe(0);
    const before = await loupe('model', 'push', await modelCopy(), '--key', keyFile);
    expect(before.code).toBe(3);
    expect(before.stderr).toMatch(/not trusted here.*\(unknown-key\)/);
    await appendFile(join(scratch, 'publishers.pem'), publicKeyToPem(signingKeyFromPem(await readFile(keyFile, 'utf8')).publicKey));
    expect((await loupe('model', 'push', await modelCopy(), '--key', keyFile)).code).toBe(0);
  }, 60_000);

  it('exits 2 on a wrong command line, 3 when the registry refuses, 4 when it cannot be reached', async () => {
    expect((await loupe('model', 'show', 'pcb-aoi')).code).toBe(2);
    expect((await loupe('model', 'push', await modelCopy())).stderr).toMatch(/--key is required/);
    expect((await loupe('model', 'push', await modelCopy(), '--key', join(scratch, 'publisher.pem'), '--metrics', '[1]')).code).toBe(2);

    const unsignedDirectory = await modelCopy();
    await writePackageManifest(unsignedDirectory, await describePackage(unsignedDirectory));
    const tar = join(scratch, 'unsigned.tar');
    await writeFile(tar, await packedPackage(unsignedDirectory));
    const refused = await loupe('model', 'push', tar);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/the registry refused: the package is not signed.*\(unsigned\)/);
    expect((await loupe('model', 'show', 'pcb-aoi', '42')).code).toBe(3);

    const unreachable = await loupe('model', 'list', '--registry', '127.0.0.1:1');
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toMatch(/cannot reach the model registry at 127\.0\.0\.1:1/);
  }, 60_000);
});
