import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePackage, verifyPackage, writePackageManifest } from './model-package';
import { PACKAGE_FILE } from './package-manifest';
import { PackageRefusedError } from './package-refused.error';
import { packedPackage, unpackPackage } from './package-tar';
import { generateSigningKey, signPackageManifest, TrustedKeys } from './signing-keys';

const PCB_AOI = resolve(import.meta.dirname, '..', '..', '..', '..', 'tools', 'demo', 'models', 'pcb-aoi');
const publisher = generateSigningKey();
const trusted = new TrustedKeys([publisher.publicKey]);

interface Layout {
  /** Where each entry's header starts, and where the archive's end blocks start: where damage is most varied. */
  boundaries: number[];
  /** The zero padding after each entry's data, up to the next 512-byte block: the only bytes a reader ignores. */
  slack: [number, number][];
  /** Where the signed package manifest's JSON lies. */
  packageManifest: [number, number];
}

async function layoutOf(bytes: Buffer): Promise<Layout> {
  const layout: Layout = { boundaries: [0], slack: [], packageManifest: [0, 0] };
  for await (const entry of Readable.from(bytes).pipe(tar.extract())) {
    const header = layout.boundaries.at(-1)!;
    const padded = Math.ceil(entry.header.size / 512) * 512;
    if (entry.header.name === PACKAGE_FILE) layout.packageManifest = [header + 512, header + 512 + entry.header.size];
    layout.slack.push([header + 512 + entry.header.size, header + 512 + padded]);
    layout.boundaries.push(header + 512 + padded);
    entry.resume();
  }
  return layout;
}

/**
 * Whether the package manifest still reads as the same JSON: its signature
 * covers what it says, not its whitespace, so a newline turned into a
 * carriage return (a flipped bit) changes nothing.
 */
function samePackageManifest(layout: Layout, intact: Buffer, damaged: Buffer, at: number): boolean {
  const [start, end] = layout.packageManifest;
  if (at < start || at >= end) return false;
  try {
    return isDeepStrictEqual(JSON.parse(intact.subarray(start, end).toString('utf8')), JSON.parse(damaged.subarray(start, end).toString('utf8')));
  } catch {
    return false;
  }
}

// The checksum field of a header (ustar bytes 148-155): its NUL and space terminators read alike.
const inChecksumField = (layout: Layout, at: number) => layout.boundaries.some((header) => at >= header + 148 && at < header + 156);

/** The bytes cut into chunks of the given sizes, as a network would deliver them. */
function chunked(bytes: Buffer, sizes: number[]): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0, index = 0; offset < bytes.length; index++) {
    const size = sizes.length > 0 ? sizes[index % sizes.length]! : bytes.length;
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return Readable.from(chunks);
}

// Each property unpacks and verifies a package a few hundred times: seconds alone, far more on a loaded CI box.
const PROPERTY_TIMEOUT_MS = 180_000;

describe('unpacking a damaged package tar', () => {
  let scratch: string;
  let intact: Buffer;
  let layout: Layout;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'loupe-damaged-tar-'));
    const source = join(scratch, 'source');
    await cp(PCB_AOI, source, { recursive: true });
    await writePackageManifest(source, signPackageManifest(await describePackage(source), publisher));
    intact = await packedPackage(source);
    layout = await layoutOf(intact);
    process.on('unhandledRejection', onUnhandled);
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await rm(scratch, { recursive: true, force: true });
  });

  let runs = 0;
  /** Unpacks and verifies; 'ok' or the refusal's reason. Anything else thrown fails the property. */
  async function outcome(bytes: Buffer, chunkSizes: number[]): Promise<string> {
    const destination = join(scratch, `run-${++runs}`);
    try {
      await unpackPackage(chunked(bytes, chunkSizes), destination);
      await verifyPackage(destination, trusted);
      return 'ok';
    } catch (error) {
      if (error instanceof PackageRefusedError) return error.reason;
      throw error;
    } finally {
      await rm(destination, { recursive: true, force: true });
    }
  }

  const offset = () =>
    fc.oneof(
      fc.integer({ min: 0, max: intact.length - 1 }),
      fc.constantFrom(...layout.boundaries).chain((boundary) => fc.integer({ min: Math.max(0, boundary - 600), max: Math.min(intact.length - 1, boundary + 1100) })),
    );
  // Odd sizes, so chunks end inside headers and blocks; not tiny, or a run would take millions of chunks.
  const chunkSizes = () => fc.array(fc.integer({ min: 97, max: 200_000 }), { maxLength: 4 });

  it('refuses every truncation as invalid-tar or a missing file, never with another error and never leaving a rejection unhandled', async () => {
    await fc.assert(
      fc.asyncProperty(offset(), chunkSizes(), async (cut, sizes) => {
        const result = await outcome(intact.subarray(0, cut), sizes);
        // A cut exactly between entries leaves a shorter, well-formed tar: a file of the manifest is missing then.
        expect(['invalid-tar', 'missing-file', 'invalid-package-manifest']).toContain(result);
      }),
      { numRuns: 150 },
    );
    expect(unhandled).toEqual([]);
  }, PROPERTY_TIMEOUT_MS);

  it('takes a flipped byte only where it changes nothing, and refuses it everywhere else', async () => {
    await fc.assert(
      fc.asyncProperty(offset(), fc.integer({ min: 1, max: 255 }), chunkSizes(), async (at, mask, sizes) => {
        const damaged = Buffer.from(intact);
        damaged[at]! ^= mask;
        const result = await outcome(damaged, sizes);
        if (layout.slack.some(([start, end]) => at >= start && at < end) || samePackageManifest(layout, intact, damaged, at)) expect(result).toBe('ok');
        else if (!inChecksumField(layout, at)) expect(result).not.toBe('ok');
      }),
      { numRuns: 150 },
    );
    const newline = intact.indexOf('\n', layout.packageManifest[0]);
    const carriageReturn = Buffer.from(intact);
    carriageReturn[newline] = '\r'.charCodeAt(0);
    expect(await outcome(carriageReturn, [])).toBe('ok');
    expect(unhandled).toEqual([]);
  }, PROPERTY_TIMEOUT_MS);

  it('refuses bytes after the end of the archive, unless they are whole blocks of zeros', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 4096 }), chunkSizes(), async (garbage, sizes) => {
        const result = await outcome(Buffer.concat([intact, garbage]), sizes);
        expect(result).toBe(garbage.length % 512 === 0 && garbage.every((byte) => byte === 0) ? 'ok' : 'invalid-tar');
      }),
      { numRuns: 60 },
    );
    expect(await outcome(Buffer.from('{"not":"a tar"}'), [])).toBe('invalid-tar');
    expect(await outcome(Buffer.alloc(0), [])).toBe('invalid-tar');
    expect(unhandled).toEqual([]);
  }, PROPERTY_TIMEOUT_MS);

  it('refuses entries whose paths clash, as a file where a directory must go', async () => {
    const pack = tar.pack();
    pack.entry({ name: 'model', type: 'file' }, 'x');
    pack.entry({ name: 'model/weights.bin', type: 'file' }, 'y');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    expect(await outcome(Buffer.concat(chunks), [])).toBe('unsafe-entry');
  });

  it('rethrows a failure of its source as it is', async () => {
    const destination = join(scratch, 'broken-off');
    const source = new Readable({
      read() {
        this.push(intact.subarray(0, 70_000));
        this.destroy(new Error('the client went away'));
      },
    });
    await expect(unpackPackage(source, destination)).rejects.toThrow('the client went away');
  });
});
