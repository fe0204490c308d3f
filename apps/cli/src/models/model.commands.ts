import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { generateSigningKey, publicKeyToPem, signedPackage, signingKeyFromPem, signingKeyToPem } from '@loupe/model-package';
import type { ModelVersion } from '@loupe/proto';
import type { CliIo } from '../cli-io';
import { CloudFailedError } from '../cloud/cloud.errors';
import type { Command, CommandGroup, OptionHelp } from '../command';
import { UsageError } from '../exit-code';
import { DEFAULT_REGISTRY, RegistryClient } from './registry-client';
import { transferProgress } from './transfer-progress';

const registryOptions = {
  registry: { type: 'string' },
  json: { type: 'boolean' },
} as const;
const registryHelp: readonly OptionHelp[] = [
  ['--registry <host:port>', `The cloud's ModelRegistry gRPC address (default: $LOUPE_REGISTRY, else ${DEFAULT_REGISTRY})`],
  ['--json', 'Print the result as JSON, for scripts'],
];

/** Runs `work` with a registry client for the command line's address and the session in $LOUPE_TOKEN. */
async function withRegistry<T>(io: CliIo, flag: string | undefined, work: (registry: RegistryClient) => Promise<T>): Promise<T> {
  const registry = new RegistryClient(flag ?? (io.env.LOUPE_REGISTRY || DEFAULT_REGISTRY), io.env.LOUPE_TOKEN || undefined);
  try {
    return await work(registry);
  } finally {
    registry.close();
  }
}

function versionArgument(text: string | undefined, help: string): number {
  const version = Number(text);
  if (!Number.isInteger(version) || version < 1) throw new UsageError(`<version> must be a whole number from 1 (got "${text}")`, help);
  return version;
}

function describeVersion(version: ModelVersion): string {
  const validation = JSON.parse(version.validationJson || '{}') as { provider?: string; goldenSamples?: number; checkMs?: number };
  return [
    `${version.name} version ${version.version} (${version.task})`,
    `  package   ${version.packageBytes} bytes, sha256 ${version.sha256}, signed by registry key ${version.keyId}`,
    `  validated on ${validation.provider ?? '?'}: ${validation.goldenSamples ?? '?'} golden samples in ${validation.checkMs ?? '?'} ms`,
    `  aliases   ${version.aliases.join(', ') || '(none)'}`,
    `  metrics   ${Object.entries(version.metrics).map(([name, value]) => `${name}=${value}`).join(', ') || '(none)'}`,
    `  lineage   parent ${version.parentVersion || '(none)'}, dataset ${version.datasetExport || '(not given)'}`,
    `  by ${version.author} at ${version.createdAt?.toISOString() ?? '?'}${version.notes ? `: ${version.notes}` : ''}`,
  ].join('\n');
}

const printVersion = (io: CliIo, version: ModelVersion, json: boolean | undefined) =>
  io.stdout(json ? `${JSON.stringify(version)}\n` : `${describeVersion(version)}\n`);

const pushOptions = {
  ...registryOptions,
  key: { type: 'string' },
  notes: { type: 'string' },
  metrics: { type: 'string' },
  parent: { type: 'string' },
  dataset: { type: 'string' },
} as const;

const pushCommand: Command<typeof pushOptions> = {
  name: 'push',
  summary: 'Sign and push a model directory, or push a packed package tar, to the registry',
  arguments: [['<dir|tar>', 'A model directory (manifest.json, its ONNX file and golden samples), or a signed package tar']],
  options: pushOptions,
  optionHelp: [
    ['--key <file>', 'Your publisher key (ed25519, PKCS#8 PEM) to sign a directory with (writes its loupe-package.json); see "loupe model keygen"'],
    ['--notes <text>', 'What changed, for the people who promote it'],
    ['--metrics <json>', 'Evaluation metrics as a JSON object of numbers, e.g. {"accuracy":0.97}'],
    ['--parent <version>', 'The version this one was trained from'],
    ['--dataset <name>', 'The dataset export it was trained on'],
    ...registryHelp,
  ],
  async run(values, { io }, [source]) {
    const help = 'Run "loupe model push --help".';
    const metrics = values.metrics === undefined ? {} : parseMetrics(values.metrics, help);
    const parentVersion = values.parent === undefined ? 0 : versionArgument(values.parent, help);
    const tar = await packageBytes(source!, values.key, help);
    const version = await withRegistry(io, values.registry, async (registry) => {
      const progress = transferProgress(io, 'uploading', tar.length);
      const pushed = await registry.push(tar, { notes: values.notes ?? '', datasetExport: values.dataset ?? '', parentVersion, metrics }, (sent) => progress.update(sent));
      progress.finish();
      return pushed;
    });
    if (values.json) return printVersion(io, version, true);
    io.stdout(`pushed and validated\n${describeVersion(version)}\n`);
  },
};

function parseMetrics(text: string, help: string): Record<string, number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((value) => typeof value !== 'number')) {
    throw new UsageError('--metrics must be a JSON object of numbers, e.g. {"accuracy":0.97}', help);
  }
  return parsed as Record<string, number>;
}

/** The tar to push: a directory is described, signed with the key and packed; a file is sent as it is. */
async function packageBytes(source: string, keyFile: string | undefined, help: string): Promise<Buffer> {
  const kind = await stat(source).then(
    (stats) => (stats.isDirectory() ? 'directory' : 'file'),
    () => undefined,
  );
  if (kind === undefined) throw new UsageError(`${source} does not exist`, help);
  if (kind === 'file') return readFile(source);
  if (keyFile === undefined) throw new UsageError('--key is required to sign a model directory (a tar is pushed as it is)', help);
  const key = await readFile(keyFile, 'utf8').then(signingKeyFromPem, (error: Error) => {
    throw new UsageError(`--key ${keyFile}: ${error.message}`, help);
  });
  try {
    return (await signedPackage(source, key)).bytes;
  } catch (error) {
    throw new UsageError(`${source} is not a model package directory: ${(error as Error).message}`, help);
  }
}

const listCommand: Command<typeof registryOptions> = {
  name: 'list',
  summary: 'List the models in the registry, with their latest version and aliases',
  options: registryOptions,
  optionHelp: registryHelp,
  async run(values, { io }) {
    const { models } = await withRegistry(io, values.registry, (registry) => registry.list());
    if (values.json) return io.stdout(`${JSON.stringify(models)}\n`);
    if (models.length === 0) return io.stdout('no models yet; push one with "loupe model push"\n');
    const rows = models.map((model) => [
      model.name,
      model.project || '-',
      model.task,
      String(model.latestVersion),
      Object.entries(model.aliases).map(([alias, version]) => `${alias}=${version}`).join(' '),
    ]);
    const table = [['MODEL', 'PROJECT', 'TASK', 'LATEST', 'ALIASES'], ...rows];
    const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
    io.stdout(`${table.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n')}\n`);
  },
};

const modelVersionArguments: readonly OptionHelp[] = [
  ['<name>', 'The model'],
  ['<version>', 'Its version number'],
];

const showCommand: Command<typeof registryOptions> = {
  name: 'show',
  summary: 'Show one version: package, validation, aliases, metrics and lineage',
  arguments: modelVersionArguments,
  options: registryOptions,
  optionHelp: registryHelp,
  async run(values, { io }, [name, versionText]) {
    const version = versionArgument(versionText, 'Run "loupe model show --help".');
    printVersion(io, await withRegistry(io, values.registry, (registry) => registry.show(name!, version)), values.json);
  },
};

const promoteOptions = { ...registryOptions, alias: { type: 'string' }, reason: { type: 'string' } } as const;

const promoteCommand: Command<typeof promoteOptions> = {
  name: 'promote',
  summary: 'Point an alias (candidate, staging, production, archived) at a version',
  arguments: modelVersionArguments,
  options: promoteOptions,
  optionHelp: [['--alias <alias>', 'candidate, staging, production or archived'], ['--reason <text>', 'Why, for the audit trail (required)'], ...registryHelp],
  async run(values, { io }, [name, versionText]) {
    const help = 'Run "loupe model promote --help".';
    const version = versionArgument(versionText, help);
    if (!values.alias) throw new UsageError('--alias is required', help);
    if (!values.reason) throw new UsageError('--reason is required: say why, for the audit trail', help);
    const promoted = await withRegistry(io, values.registry, (registry) => registry.setAlias({ name: name!, version, alias: values.alias!, reason: values.reason! }));
    if (values.json) return printVersion(io, promoted, true);
    io.stdout(`${values.alias} -> ${promoted.name} version ${promoted.version}\n`);
  },
};

const downloadOptions = { ...registryOptions, out: { type: 'string' } } as const;

const downloadCommand: Command<typeof downloadOptions> = {
  name: 'download',
  summary: 'Download a version as its signed package tar',
  arguments: modelVersionArguments,
  options: downloadOptions,
  optionHelp: [['--out <file>', 'Where to write it (default: <name>-<version>.tar)'], ...registryHelp],
  async run(values, { io }, [name, versionText]) {
    const version = versionArgument(versionText, 'Run "loupe model download --help".');
    const out = values.out ?? `${name}-${version}.tar`;
    const chunks: Buffer[] = [];
    let expected = { packageBytes: 0, sha256: '' };
    let progress: ReturnType<typeof transferProgress> | undefined;
    let received = 0;
    await withRegistry(io, values.registry, (registry) =>
      registry.download(
        name!,
        version,
        (header) => {
          expected = header;
          progress = transferProgress(io, 'downloading', header.packageBytes);
        },
        (chunk) => {
          chunks.push(chunk);
          received += chunk.length;
          progress?.update(received);
        },
      ),
    );
    progress?.finish();
    const tar = Buffer.concat(chunks);
    const sha256 = createHash('sha256').update(tar).digest('hex');
    if (tar.length !== expected.packageBytes || sha256 !== expected.sha256) {
      throw new CloudFailedError(`the download of ${name} version ${version} arrived damaged (${tar.length} bytes, sha256 ${sha256}); run it again`);
    }
    await writeFile(out, tar);
    if (values.json) return io.stdout(`${JSON.stringify({ file: out, bytes: tar.length, sha256 })}\n`);
    io.stdout(`wrote ${name} version ${version} to ${out} (${tar.length} bytes, sha256 ${sha256})\n`);
  },
};

const keygenOptions = { out: { type: 'string' } } as const;

const keygenCommand: Command<typeof keygenOptions> = {
  name: 'keygen',
  summary: 'Make a publisher key to sign model packages with',
  options: keygenOptions,
  optionHelp: [['--out <file>', 'Where to write the private key (required; it is not overwritten)']],
  async run(values, { io }) {
    if (!values.out) throw new UsageError('--out is required', 'Run "loupe model keygen --help".');
    const key = generateSigningKey();
    await writeFile(values.out, signingKeyToPem(key), { flag: 'wx', mode: 0o600 }).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot write ${values.out}: ${error.code === 'EEXIST' ? 'it exists already' : error.message}`, 'Run "loupe model keygen --help".');
    });
    io.stdout(
      `wrote key ${key.keyId} to ${values.out}; keep it private. Add this public key to the cloud's REGISTRY_PUBLISHER_KEYS_FILE:\n${publicKeyToPem(key.publicKey)}`,
    );
  },
};

/** `loupe model ...`: the model registry. */
export const modelCommands: CommandGroup = {
  name: 'model',
  summary: 'Model versions in the registry: push, list, show, promote, download',
  commands: [pushCommand, listCommand, showCommand, promoteCommand, downloadCommand, keygenCommand],
};
