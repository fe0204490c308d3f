import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar, { type Extract } from 'tar-stream';
import { packagePathSchema, PACKAGE_FILE, type PackageManifest } from './package-manifest';
import { describePackage, readPackageManifest, writePackageManifest } from './model-package';
import { signPackageManifest, type SigningKey } from './signing-keys';
import { PackageRefusedError } from './package-refused.error';

export interface UnpackLimits {
  /** Total bytes of all files; a tar that claims more is refused before they are written. */
  maxBytes: number;
  maxEntries: number;
}

// Bigger than any model a Jetson can hold in memory, smaller than a disk.
export const DEFAULT_UNPACK_LIMITS: UnpackLimits = { maxBytes: 4 * 1024 ** 3, maxEntries: 10_000 };

/**
 * Writes the package in `directory` as a tar: its package manifest first,
 * then the files it lists in order, as plain files with fixed owner, mode
 * and time, so packing the same package twice gives the same bytes.
 */
export async function packPackage(directory: string, output: Writable): Promise<void> {
  const manifest = await readPackageManifest(directory);
  const pack = tar.pack();
  const written = pipeline(pack, output);
  for (const path of [PACKAGE_FILE, ...manifest.files.map((file) => file.path)]) {
    const file = join(directory, path);
    const { size } = await stat(file);
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name: path, size, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, type: 'file' }, (error) =>
        error ? reject(error) : resolve(),
      );
      createReadStream(file).on('error', reject).pipe(entry);
    });
  }
  pack.finalize();
  await written;
}

/** The package in `directory` as tar bytes, for stores that take whole objects. */
export async function packedPackage(directory: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  await packPackage(directory, sink);
  return Buffer.concat(chunks);
}

/**
 * Describes the model directory, signs its package manifest with the key,
 * writes it into the directory and packs the package: what a publisher, or
 * the registry on accepting a push, sends on.
 */
export async function signedPackage(directory: string, key: SigningKey): Promise<{ manifest: PackageManifest; bytes: Buffer }> {
  const manifest = signPackageManifest(await describePackage(directory), key);
  await writePackageManifest(directory, manifest);
  return { manifest, bytes: await packedPackage(directory) };
}

/**
 * Unpacks a package tar into `destination`, which must not exist or be
 * empty. Only plain files and directories with package paths are accepted:
 * a symlink, a hard link, a device, an absolute path, a `..` segment, a
 * repeated or clashing name or a size over the limits refuses the whole
 * tar, and no file is ever written outside `destination`.
 *
 * Every failure settles this one promise: a tar cut short, damaged or not a
 * tar at all is refused as `invalid-tar`; an error of `input` itself (an
 * upload that broke off, a size cap of the caller) is rethrown as it is.
 */
export async function unpackPackage(input: Readable, destination: string, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS): Promise<void> {
  await mkdir(destination, { recursive: true });
  if ((await readdir(destination)).length > 0) throw new Error(`${destination} must be empty to unpack a package into it`);
  const extract = tar.extract();
  let inputError: unknown;
  let extractError: unknown;
  input.once('error', (error) => (inputError ??= error));
  extract.once('error', (error) => (extractError ??= error));
  const readFailure = (error: unknown) => inputError ?? invalidTar(error);
  // The first failure on either side is the cause; it stops the other side, whose own error is only an echo.
  let cause: { error: unknown } | undefined;
  let entryInFlight: TarEntry | undefined;
  const reading = pipeline(input, extract).catch((error: unknown) => {
    cause ??= { error: readFailure(error) };
    entryInFlight?.destroy();
  });
  const writing = writeEntries(extract, destination, limits, (entry) => (entryInFlight = entry)).then(
    (entries) => {
      if (entries === 0) cause ??= { error: new PackageRefusedError('invalid-tar', `the body holds no tar entries; ${RESEND}`) };
    },
    (error: unknown) => {
      // The extractor's errors reach the writer too, through its iterator.
      cause ??= { error: error === extractError || error === inputError ? readFailure(error) : error };
      input.destroy();
      extract.destroy();
    },
  );
  // Awaited together, so neither side's rejection is ever left unhandled.
  await Promise.all([reading, writing]);
  if (cause) throw cause.error;
}

type TarEntry = Extract extends AsyncIterable<infer E> ? E : never;

const RESEND = 'send the whole package tar as `loupe model push` packs it';

function invalidTar(error: unknown): PackageRefusedError {
  const detail = error instanceof Error ? error.message : String(error);
  return new PackageRefusedError('invalid-tar', `the body is not a complete tar archive (${detail}): it was cut short, damaged, or is not a tar; ${RESEND}`);
}

/** Writes each entry as it arrives; returns how many there were. */
async function writeEntries(extract: Extract, destination: string, limits: UnpackLimits, onEntry: (entry: TarEntry) => void): Promise<number> {
  const seen = new Set<string>();
  let bytes = 0;
  for await (const entry of extract) {
    onEntry(entry);
    const { name, type, size = 0 } = entry.header;
    const path = name.replace(/\/+$/, '');
    if (type !== 'file' && type !== 'directory') throw new PackageRefusedError('unsafe-entry', `the tar holds ${name} as a ${type ?? 'unknown entry'}; a package holds only plain files`);
    const parsed = packagePathSchema.safeParse(path);
    if (!parsed.success) throw new PackageRefusedError('unsafe-entry', `the tar holds ${JSON.stringify(name)}, which is not a path inside a package`);
    if (seen.has(path)) throw new PackageRefusedError('unsafe-entry', `the tar holds ${path} twice`);
    seen.add(path);
    if (seen.size > limits.maxEntries) throw new PackageRefusedError('too-large', `the tar holds more than ${limits.maxEntries} entries`);
    bytes += size;
    if (bytes > limits.maxBytes) throw new PackageRefusedError('too-large', `the tar holds more than ${limits.maxBytes} bytes`);
    await writeEntry(entry, join(destination, ...path.split('/')), type).catch((error: unknown) => {
      throw CLASHES.has((error as NodeJS.ErrnoException).code ?? '') ? new PackageRefusedError('unsafe-entry', `the tar holds ${path}, which clashes with another of its entries`) : error;
    });
  }
  return seen.size;
}

// What the file system says when one entry's path runs into another's: a file where a directory must go, or the reverse.
const CLASHES = new Set(['EEXIST', 'ENOTDIR', 'EISDIR']);

async function writeEntry(entry: TarEntry, target: string, type: 'file' | 'directory'): Promise<void> {
  if (type === 'directory') {
    await mkdir(target, { recursive: true });
    entry.resume();
    return;
  }
  await mkdir(dirname(target), { recursive: true });
  // 'wx': never replace a file, so no entry can overwrite another's.
  const file = await open(target, 'wx', 0o644);
  try {
    // Read by its own iterator, not node's pipeline: node cannot tell that a
    // tar-stream entry destroyed during the awaits above has closed already.
    for await (const chunk of entry) await file.write(chunk as Buffer);
  } finally {
    await file.close();
  }
}
