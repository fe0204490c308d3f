import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, credentials, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { InspectRequest, InspectResponse } from '@loupe/proto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrapeMetric } from '../testing/scrape-metric';
import { DEMO_MODEL_DIR, startTestAgent, type TestAgent } from '../testing/test-agent';
import { MAX_METADATA_BYTES, MAX_METADATA_DEPTH } from './inspect-request-decoding';

const INSPECT = '/loupe.v1.InspectService/Inspect';
const INSPECT_STREAM = '/loupe.v1.InspectService/InspectStream';
const identity = (bytes: Buffer) => bytes;
const ERRORS = 'loupe_agent_inspect_errors_total{kind="invalid_argument"}';

/** Bytes no protobuf decoder reads: field 1, length 255, then nothing. */
const GARBAGE = Buffer.from([0x0a, 0xff]);

/** What a refused call looks like: INVALID_ARGUMENT with a message that says why. */
const refusal = (details: RegExp) => ({ code: GrpcStatus.INVALID_ARGUMENT, details: expect.stringMatching(details) as unknown as string });

describe('the Inspect API against hostile requests', () => {
  let running: TestAgent;
  let raw: Client;
  let image: Buffer;

  beforeAll(async () => {
    running = await startTestAgent({ EXECUTION_PROVIDERS: 'cpu', MODEL_MANIFEST: join(DEMO_MODEL_DIR, 'manifest.json') });
    raw = new Client(running.agent.grpcAddress, credentials.createInsecure());
    image = await readFile(join(DEMO_MODEL_DIR, 'sample-images', 'Normal_33.png'));
    await running.agent.activateModel(join(DEMO_MODEL_DIR, 'manifest.json'));
  });
  afterAll(async () => {
    raw?.close();
    await running?.stop();
  });

  const request = (overrides: Partial<InspectRequest> = {}): InspectRequest => ({
    requestId: randomBytes(4).toString('hex'),
    stationId: 'line-3-aoi',
    unitSerial: 'SN-0001',
    image,
    ...overrides,
  });

  /** Unary Inspect with any bytes as the message, as a generic client with no .proto would send them. */
  const inspectRaw = (bytes: Buffer) =>
    new Promise<{ code: GrpcStatus; details: string; answer?: InspectResponse }>((resolve) =>
      raw.makeUnaryRequest(INSPECT, identity, identity, bytes, (error: ServiceError | null, answer?: Buffer) =>
        resolve(error ? { code: error.code, details: error.details } : { code: GrpcStatus.OK, details: '', answer: InspectResponse.decode(answer!) }),
      ),
    );

  const inspect = (message: InspectRequest) => inspectRaw(Buffer.from(InspectRequest.encode(message).finish()));

  const errors = () => scrapeMetric(running.agent.statusUrl, ERRORS);

  describe('bytes that are not an InspectRequest', () => {
    it('get INVALID_ARGUMENT on Inspect, not INTERNAL, and are counted', async () => {
      const before = await errors();
      expect(await inspectRaw(GARBAGE)).toMatchObject(refusal(/^the request is not a valid loupe.v1.InspectRequest \(.+\)$/));
      expect(await errors()).toBe(before + 1);
    });

    it('get an INVALID_ARGUMENT answer on InspectStream, which stays open for the next request', async () => {
      const call = raw.makeBidiStreamRequest(INSPECT_STREAM, identity, identity);
      const answers: InspectResponse[] = [];
      call.on('data', (bytes: Buffer) => answers.push(InspectResponse.decode(bytes)));
      const ended = new Promise<void>((resolve, reject) => {
        call.on('end', resolve);
        call.on('error', reject);
      });
      call.write(GARBAGE);
      call.write(Buffer.from(InspectRequest.encode(request({ requestId: 'after-garbage' })).finish()));
      call.end();
      await ended;
      expect(answers).toHaveLength(2);
      expect(answers.find((answer) => answer.requestId === '')?.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/not a valid loupe.v1.InspectRequest/) as string });
      expect(answers.find((answer) => answer.requestId === 'after-garbage')?.prediction?.verdict).toBe('pass');
    });

    it('never get INTERNAL, whatever the bytes', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 256 }), async (bytes) => {
          expect((await inspectRaw(Buffer.from(bytes))).code).toBe(GrpcStatus.INVALID_ARGUMENT);
        }),
        { numRuns: 100 },
      );
    });
  });

  describe('metadata', () => {
    const nested = (depth: number): Record<string, unknown> => (depth === 1 ? { lot: 'L-7' } : { level: nested(depth - 1) });

    it(`is taken up to ${MAX_METADATA_DEPTH} levels deep and ${MAX_METADATA_BYTES / 1024} KiB`, async () => {
      const metadata = { ...nested(MAX_METADATA_DEPTH), recipe: 'r'.repeat(MAX_METADATA_BYTES - 200) };
      expect(await inspect(request({ metadata }))).toMatchObject({ code: GrpcStatus.OK, answer: { prediction: { verdict: 'pass' } } });
    });

    it('nested deeper is refused with the limit, before it is decoded', async () => {
      expect(await inspect(request({ metadata: nested(MAX_METADATA_DEPTH + 1) }))).toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
        details: `metadata is nested more than ${MAX_METADATA_DEPTH} levels deep; flatten it`,
      });
      // A list is a level too; and 1300 levels, within the size limit, are refused by their depth alone.
      expect(await inspect(request({ metadata: { list: [[[[[[[[{}]]]]]]]] } }))).toMatchObject(refusal(/nested more than/));
      const deep = Buffer.concat([Buffer.from(InspectRequest.encode(request()).finish()), deepStruct(1_300)]);
      expect(deep.length).toBeLessThan(InspectRequest.encode(request()).finish().length + MAX_METADATA_BYTES);
      expect(await inspectRaw(deep)).toMatchObject(refusal(/nested more than/));
    });

    it('larger is refused with its size and the limit', async () => {
      expect(await inspect(request({ metadata: { recipe: 'r'.repeat(MAX_METADATA_BYTES) } }))).toMatchObject(refusal(/^metadata is 16\d{3} bytes encoded; the limit is 16384 \(16 KiB\)/));
    });
  });

  describe('ids with control characters', () => {
    it('a NUL-padded unit_serial is refused, naming the field and where', async () => {
      expect(await inspect(request({ unitSerial: 'SN-0042\u0000\u0000\u0000' }))).toMatchObject(refusal(/^unit_serial has a control character \(U\+0000\) at position 7/));
    });

    it('any id with a control character anywhere is refused, naming the field and position', async () => {
      const control = fc.integer({ min: 0, max: 0x9f }).filter((code) => code < 0x20 || code >= 0x7f).map((code) => String.fromCharCode(code));
      const printable = (max: number) => fc.string({ maxLength: max, unit: fc.constantFrom(...'ABCxyz019-_.') });
      const fields = [
        ['request_id', 'requestId'],
        ['station_id', 'stationId'],
        ['unit_serial', 'unitSerial'],
      ] as const;
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...fields), printable(20), control, printable(20), async ([field, key], before, bad, after) => {
          const value = `${key === 'stationId' ? 'L' : ''}${before}${bad}${after}`;
          const position = value.indexOf(bad);
          const { code, details } = await inspect(request({ [key]: value }));
          expect(code).toBe(GrpcStatus.INVALID_ARGUMENT);
          expect(details).toContain(`${field} has a control character (U+${bad.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}) at position ${position}`);
        }),
        { numRuns: 60 },
      );
    });
  });

  describe('image_sha256', () => {
    const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

    it('matching the image: judged; upper-case hex is the same hash', async () => {
      expect(await inspect(request({ imageSha256: sha256(image) }))).toMatchObject({ code: GrpcStatus.OK, answer: { prediction: { verdict: 'pass' } } });
      expect(await inspect(request({ imageSha256: sha256(image).toUpperCase() }))).toMatchObject({ code: GrpcStatus.OK });
    });

    it('not matching it: refused as damaged, and counted', async () => {
      const before = await scrapeMetric(running.agent.statusUrl, 'loupe_agent_damaged_images_total');
      const changed = Buffer.from(image);
      changed[changed.length - 100] = changed[changed.length - 100]! ^ 1;
      expect(await inspect(request({ image: changed, imageSha256: sha256(image) }))).toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
        details: `image is damaged: its SHA-256 is ${sha256(changed)} but image_sha256 says ${sha256(image)}: the bytes changed after the station hashed them; send the image again as the camera wrote it`,
      });
      expect(await scrapeMetric(running.agent.statusUrl, 'loupe_agent_damaged_images_total')).toBe(before + 1);
    });

    it('that is not a SHA-256 in hex: refused, saying what it must be', async () => {
      for (const imageSha256 of ['', 'abc', sha256(image).replace(/^./, 'g')]) {
        expect(await inspect(request({ imageSha256 }))).toMatchObject(refusal(/^image_sha256 must be the 64 hex digits/));
      }
    });
  });
});

/** InspectRequest field 5 holding a Struct nested `depth` levels: { a: { a: ... } }, written by hand. */
function deepStruct(depth: number): Buffer {
  let struct: Buffer = Buffer.alloc(0);
  for (let level = 0; level < depth; level++) {
    const value = lengthDelimited(5, struct);
    const entry = Buffer.concat([lengthDelimited(1, Buffer.from('a')), lengthDelimited(2, value)]);
    struct = lengthDelimited(1, entry);
  }
  return lengthDelimited(5, struct);
}

function lengthDelimited(field: number, bytes: Buffer): Buffer {
  const length: number[] = [];
  for (let rest = bytes.length; ; rest >>>= 7) {
    if (rest < 0x80) {
      length.push(rest);
      break;
    }
    length.push((rest & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...length]), bytes]);
}
