import { createHash } from 'node:crypto';
import { findControlCharacter, printableText } from '@loupe/api-contracts';
import { DamagedImageError } from '@loupe/inference';
import type { InspectRequest } from '@loupe/proto';
import { z } from 'zod';
import { InvalidInspectRequestError } from './inspect-errors';

/** request_id and unit_serial: as long as the cloud stores; a UUID or a barcode fits with room to spare. */
export const ID_MAX_LENGTH = 128;
const STATION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * What a station must send, beyond what the proto types say. The ids use
 * the same printable-text rule as the cloud's ingest (no control
 * characters: a NUL-padded serial is refused here, at the line, not by
 * Postgres later), each message naming the field and position.
 */
const inspectRequestSchema = z.object({
  requestId: printableText('request_id', ID_MAX_LENGTH),
  stationId: printableText('station_id', 64)
    .refine((value) => value !== '', 'station_id is required: set it to the name of the camera station, e.g. "line-3-aoi"')
    .refine((value) => value === '' || STATION_ID.test(value), {
      error: (issue) => `station_id "${String(issue.input).slice(0, 80)}" is invalid: use 1-64 letters, digits, '.', '_' or '-'`,
    }),
  unitSerial: printableText('unit_serial', ID_MAX_LENGTH),
  image: z.instanceof(Uint8Array).refine((image) => image.length > 0, 'image is empty: send the encoded bytes of a JPEG, PNG, BMP, TIFF or WebP file'),
  imageSha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'image_sha256 must be the 64 hex digits of the SHA-256 of image; leave it unset to skip the check')
    .optional(),
});

/** Refuses a request the agent must not judge: invalid fields, or an image that is not the one the station hashed. */
export function checkInspectRequest(request: InspectRequest): void {
  const checked = inspectRequestSchema.safeParse(request);
  if (!checked.success) throw new InvalidInspectRequestError(checked.error.issues[0]!.message);
  if (request.imageSha256 !== undefined) checkImageIntegrity(request.image, request.imageSha256.toLowerCase());
}

/**
 * Damage inside JPEG or WebP scan data, or in uncompressed pixels, still
 * decodes to a picture; only a hash taken where the image was captured
 * tells it apart from the image the camera took.
 */
function checkImageIntegrity(image: Buffer, expected: string): void {
  const actual = createHash('sha256').update(image).digest('hex');
  if (actual !== expected) {
    throw new DamagedImageError(`its SHA-256 is ${actual} but image_sha256 says ${expected}: the bytes changed after the station hashed them`);
  }
}

/** A request_id goes back in an answer only when it is one the agent accepts: a refused one may be megabytes or control characters. */
export function echoableRequestId(requestId: string): string {
  return requestId.length <= ID_MAX_LENGTH && !findControlCharacter(requestId) ? requestId : '';
}
