import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { InspectRequest, InspectResponse } from '@loupe/proto';
import {
  damagedVersions,
  encodeImage,
  formatOf,
  IMAGE_ENCODINGS,
  imageLayout,
  type DamagedImage,
  type DamageKind,
  type EncodedImage,
} from '@loupe/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODEL_DIR, startTestAgent, type TestAgent } from '../testing/test-agent';

const workspace = join(import.meta.dirname, '..', '..', '..', '..');
const SAMPLES = join(DEMO_MODEL_DIR, 'sample-images');
const DEEP_PCB = join(workspace, 'tools', 'demo', 'images', 'deeppcb');
/** One image of each verdict is re-encoded in every format; the rest are damaged as they are. */
const RE_ENCODED = ['Defective_02.png', 'Normal_33.png'];
const PLAN = { cuts: 5, headerChanges: 5, dataChanges: 8, sizeLie: 16 };
/** About 800 damaged images, each decoded in full: room for a busy 2-core machine. */
const CORPUS_TIMEOUT_MS = 180_000;

type Outcome = { verdict: string } | { refused: string };

/** Damage at a random place: cut there (with the end marker put back), or a byte changed, inserted or removed. */
interface RandomDamage {
  image: EncodedImage;
  share: number;
  mask: number;
  kind: 'cut' | 'cut-end-marker-added' | 'changed' | 'inserted' | 'removed';
}

/**
 * Which damage the formats let the agent see without image_sha256. A cut
 * shows in every format (an end marker put back, in JPEG and PNG, is seen
 * too); a size that lies shows except in lossy WebP, whose macroblocks are
 * read only as far as the header says; a changed byte shows where the
 * format has a checksum over it: PNG's CRCs, deflated TIFF's Adler-32.
 */
function visibleWithoutHash(image: EncodedImage, kind: DamageKind): boolean {
  switch (kind) {
    case 'cut':
    case 'cut-end-marker-added':
      return true;
    case 'size-overstated':
    case 'size-understated':
      return image.encoding !== 'webp';
    case 'header-byte-changed':
      return image.format === 'png';
    case 'data-byte-changed':
      return image.format === 'png' || image.encoding === 'tiff-deflate';
  }
}

describe('the Inspect API with damaged images', () => {
  let running: TestAgent;
  const images: EncodedImage[] = [];
  const verdicts = new Map<string, string>();
  let corpus: DamagedImage[] = [];

  beforeAll(async () => {
    running = await startTestAgent({ EXECUTION_PROVIDERS: 'cpu', MODEL_MANIFEST: join(DEMO_MODEL_DIR, 'manifest.json') });
    await running.agent.activateModel(join(DEMO_MODEL_DIR, 'manifest.json'));
    for (const [folder, format] of [[SAMPLES, 'png'], [DEEP_PCB, 'jpeg']] as const) {
      for (const source of (await readdir(folder)).filter((name) => name.endsWith(`.${format === 'png' ? 'png' : 'jpg'}`)).sort()) {
        const bytes = await readFile(join(folder, source));
        images.push({ source, encoding: 'original', format, bytes });
        if (RE_ENCODED.includes(source)) {
          for (const encoding of IMAGE_ENCODINGS) images.push({ source, encoding, format: formatOf(encoding), bytes: await encodeImage(bytes, encoding) });
        }
      }
    }
    for (const image of images.filter((candidate) => candidate.encoding === 'original')) {
      const outcome = await inspect(image.bytes);
      if (!('verdict' in outcome)) throw new Error(`${image.source} is refused as it is: ${outcome.refused}`);
      verdicts.set(image.source, outcome.verdict);
    }
    corpus = images.flatMap((image) => damagedVersions(image, PLAN));
  });
  afterAll(() => running?.stop());

  const label = (image: EncodedImage) => (image.encoding === 'original' ? `${image.format} as written` : image.encoding);

  /** A verdict, or the INVALID_ARGUMENT refusal; any other answer fails the test. */
  const inspect = (image: Buffer, imageSha256?: string) =>
    new Promise<Outcome>((resolve, reject) => {
      const request: InspectRequest = { requestId: randomBytes(4).toString('hex'), stationId: 'line-3-aoi', unitSerial: 'SN-1', image, ...(imageSha256 ? { imageSha256 } : {}) };
      running.client.inspect(request, (error: ServiceError | null, response?: InspectResponse) => {
        if (!error) resolve({ verdict: response!.prediction!.verdict });
        else if (error.code === GrpcStatus.INVALID_ARGUMENT) resolve({ refused: error.details });
        else reject(error);
      });
    });

  /** Inspects every item, a few at a time, as a busy station would. */
  async function inspectAll<T>(items: T[], bytes: (item: T) => Buffer, sha256?: (item: T) => string): Promise<Outcome[]> {
    const outcomes: Outcome[] = new Array<Outcome>(items.length);
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < items.length; index = next++) outcomes[index] = await inspect(bytes(items[index]!), sha256?.(items[index]!));
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    return outcomes;
  }

  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

  it("refuses the issue's example: a defective unit's JPEG cut to 30% with an end marker added", async () => {
    const jpeg = images.find((image) => image.source === 'Defective_02.png' && image.encoding === 'jpeg')!.bytes;
    expect(await inspect(jpeg)).toEqual({ verdict: 'reject' });
    const cut = Buffer.concat([jpeg.subarray(0, Math.floor(jpeg.length * 0.3)), Buffer.from([0xff, 0xd9])]);
    expect(await inspect(cut)).toEqual({ refused: expect.stringMatching(/^image is damaged: the JPEG's scan data ends after \d+ of the \d+ blocks its 770x609 header promises/) as unknown });
  });

  it('refuses a JPEG whose header claims more pixels than its data holds, or fewer', async () => {
    const { resized } = imageLayout(images.find((image) => image.source === 'Normal_33.png' && image.encoding === 'jpeg')!.bytes, 'jpeg');
    expect(await inspect(resized(0, 64))).toEqual({ refused: expect.stringMatching(/^image is damaged: the JPEG's scan data ends after/) as unknown });
    expect(await inspect(resized(-64, 0))).toEqual({ refused: expect.stringMatching(/^image is damaged: the JPEG's scan data goes on past/) as unknown });
  });

  it('keeps the verdict of every intact image, in every format, with and without image_sha256', async () => {
    const plain = await inspectAll(images, (image) => image.bytes);
    const hashed = await inspectAll(images, (image) => image.bytes, (image) => sha256(image.bytes));
    images.forEach((image, index) => {
      const expected = { verdict: verdicts.get(image.source) };
      expect({ image: `${image.source} ${label(image)}`, plain: plain[index], hashed: hashed[index] }).toEqual({ image: `${image.source} ${label(image)}`, plain: expected, hashed: expected });
    });
  });

  it('gives no verdict to damage the formats show, and measures what they cannot show without image_sha256', async () => {
    const outcomes = await inspectAll(corpus, (damaged) => damaged.bytes);
    const judged = corpus.filter((_, index) => 'verdict' in outcomes[index]!);
    const missed = judged.filter((damaged) => visibleWithoutHash(damaged.image, damaged.kind));
    expect(missed.map((damaged) => `${damaged.image.source} ${label(damaged.image)} ${damaged.kind}: ${damaged.detail}`)).toEqual([]);
    // The rest is measured, not asserted: no format check can see it. The table is in docs/inspect.md.
    const rows = new Map<string, { refused: number; total: number }>();
    corpus.forEach((damaged, index) => {
      const row = `${label(damaged.image).padEnd(17)} ${damaged.kind}`;
      const counts = rows.get(row) ?? { refused: 0, total: 0 };
      counts.total++;
      if ('refused' in outcomes[index]!) counts.refused++;
      rows.set(row, counts);
    });
    const table = [...rows].sort().map(([row, { refused, total }]) => `  ${row.padEnd(42)} ${String(refused).padStart(3)}/${String(total).padEnd(3)} ${Math.round((100 * refused) / total)}%`);
    process.stdout.write(`Damaged images refused without image_sha256 (${corpus.length} damaged, ${judged.length} judged):\n${table.join('\n')}\n`);
  }, CORPUS_TIMEOUT_MS);

  it('refuses every damaged image when image_sha256 is given', async () => {
    const outcomes = await inspectAll(corpus, (damaged) => damaged.bytes, (damaged) => sha256(damaged.image.bytes));
    const judged = corpus.filter((_, index) => !('refused' in outcomes[index]!) || !outcomes[index].refused.startsWith('image is damaged: its SHA-256'));
    expect(judged.map((damaged) => `${damaged.image.source} ${label(damaged.image)} ${damaged.kind}: ${damaged.detail}`)).toEqual([]);
  }, CORPUS_TIMEOUT_MS);

  it('refuses random damage when image_sha256 is given, and a random cut without it', async () => {
    const damage: fc.Arbitrary<RandomDamage> = fc.record({
      image: fc.constantFrom(...images),
      share: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      mask: fc.integer({ min: 1, max: 255 }),
      kind: fc.constantFrom('cut', 'cut-end-marker-added', 'changed', 'inserted', 'removed'),
    });
    const apply = ({ image, share, mask, kind }: RandomDamage): Buffer => {
      const at = Math.floor(image.bytes.length * share);
      const { endMarker } = imageLayout(image.bytes, image.format);
      switch (kind) {
        case 'cut':
          return image.bytes.subarray(0, at);
        case 'cut-end-marker-added':
          return Buffer.concat([image.bytes.subarray(0, at), endMarker ?? Buffer.alloc(0)]);
        case 'changed':
          return Buffer.concat([image.bytes.subarray(0, at), Buffer.from([image.bytes[at]! ^ mask]), image.bytes.subarray(at + 1)]);
        case 'inserted':
          return Buffer.concat([image.bytes.subarray(0, at), Buffer.from([mask]), image.bytes.subarray(at)]);
        case 'removed':
          return Buffer.concat([image.bytes.subarray(0, at), image.bytes.subarray(at + 1)]);
      }
    };
    await fc.assert(
      fc.asyncProperty(damage, async (damaged) => {
        const bytes = apply(damaged);
        expect(await inspect(bytes, sha256(damaged.image.bytes))).toHaveProperty('refused');
        // A cut inside the end marker with the marker put back leaves the picture whole: only a cut before it is damage.
        const { data, endMarker } = imageLayout(damaged.image.bytes, damaged.image.format);
        const at = Math.floor(damaged.image.bytes.length * damaged.share);
        if (damaged.kind === 'cut' || (damaged.kind === 'cut-end-marker-added' && endMarker && at < data.end)) {
          expect(await inspect(bytes)).toHaveProperty('refused');
        }
      }),
      { numRuns: 150 },
    );
  });
});
