import type { ClaimDto } from '@loupe/api-contracts';
import { BadRequestException } from '@nestjs/common';
import type { ClaimedSample } from './task-leases';

type Box = { className: string; x: number; y: number; width: number; height: number };

/** An answer from a request: a class, or boxes; keyed so that equal answers compare equal for consensus. */
export function answerOf(body: { className?: string | undefined; boxes?: Box[] | undefined }): { key: string; value: unknown } {
  const { className, boxes } = body;
  if ((className === undefined) === (boxes === undefined)) throw new BadRequestException('send className or boxes, not both');
  return className === undefined ? { key: canonicalBoxes(boxes ?? []), value: { boxes } } : { key: className, value: { className } };
}

/** Boxes compared for consensus: class and position rounded to 8 px, in a fixed order. */
function canonicalBoxes(boxes: Box[]): string {
  const grid = (value: number) => Math.round(value / 8);
  return JSON.stringify(
    boxes.map((box) => [box.className, grid(box.x), grid(box.y), grid(box.width), grid(box.height)]).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
  );
}

/** A claimed sample as the API sends it: the image by URL, never by its blob key. */
export function toClaimDto(claimed: ClaimedSample): ClaimDto {
  const { imageKey: _, ...sample } = claimed;
  return {
    ...sample,
    expiresAt: claimed.expiresAt.toISOString(),
    capturedAt: claimed.capturedAt.toISOString(),
    imageUrl: `/api/samples/${claimed.sampleId}/image`,
  };
}
