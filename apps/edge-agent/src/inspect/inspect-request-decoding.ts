import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { InspectRequest } from '@loupe/proto';
import { echoableRequestId } from './inspect-request';

/** Station context is a few settings, not a payload: 16 KiB encoded is hundreds of them. */
export const MAX_METADATA_BYTES = 16 * 1024;
/** The metadata object itself is depth 1; each nested object or list adds one. */
export const MAX_METADATA_DEPTH = 8;

/**
 * What arrived on an Inspect call: a request, or why the bytes are not one
 * the agent will read. The Inspect service's deserializer returns this
 * instead of throwing, because grpc-js answers a deserializer that throws
 * with INTERNAL and ends a stream; a station that sent one bad message gets
 * INVALID_ARGUMENT for it and keeps its stream.
 */
export type ReceivedInspectRequest = { request: InspectRequest } | { refused: string; requestId: string };

const FIELD_REQUEST_ID = 1;
const FIELD_METADATA = 5;

/**
 * Reads an InspectRequest off the wire. The metadata Struct is measured at
 * the wire level first: decoding it recurses once per level, so a hostile
 * nesting must be refused before it is decoded, not by a stack overflow.
 */
export function receiveInspectRequest(bytes: Buffer): ReceivedInspectRequest {
  let requestId = '';
  try {
    forEachField(bytes, (field, value) => {
      if (field === FIELD_REQUEST_ID) requestId = echoableRequestId(new TextDecoder().decode(value));
      else if (field === FIELD_METADATA) checkMetadata(value);
    });
    return { request: InspectRequest.decode(bytes) };
  } catch (error) {
    const reason = error instanceof MetadataLimitError ? error.message : `the request is not a valid loupe.v1.InspectRequest (${(error as Error).message})`;
    return { refused: reason, requestId };
  }
}

class MetadataLimitError extends Error {}

function checkMetadata(struct: Uint8Array): void {
  if (struct.length > MAX_METADATA_BYTES) {
    throw new MetadataLimitError(
      `metadata is ${struct.length} bytes encoded; the limit is ${MAX_METADATA_BYTES} (${MAX_METADATA_BYTES / 1024} KiB): send recipe, lot and camera settings, not data`,
    );
  }
  checkStruct(struct, 1);
}

// google.protobuf.Struct: 1 = map entry (1 = key, 2 = Value). Value: 5 = Struct, 6 = ListValue. ListValue: 1 = Value.
function checkStruct(struct: Uint8Array, depth: number): void {
  checkDepth(depth);
  forEachField(struct, (field, entry) => {
    if (field === 1) forEachField(entry, (part, value) => part === 2 && checkValue(value, depth));
  });
}

function checkValue(value: Uint8Array, depth: number): void {
  forEachField(value, (field, nested) => {
    if (field === 5) checkStruct(nested, depth + 1);
    else if (field === 6) {
      checkDepth(depth + 1);
      forEachField(nested, (element, item) => element === 1 && checkValue(item, depth + 1));
    }
  });
}

function checkDepth(depth: number): void {
  if (depth > MAX_METADATA_DEPTH) throw new MetadataLimitError(`metadata is nested more than ${MAX_METADATA_DEPTH} levels deep; flatten it`);
}

/** Calls `visit` with each length-delimited field; skips the rest. Throws on bytes that are not protobuf. */
function forEachField(message: Uint8Array, visit: (field: number, value: Uint8Array) => unknown): void {
  const reader = new BinaryReader(message);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (wireType === WireType.LengthDelimited) visit(field, reader.bytes());
    else reader.skip(wireType, field);
  }
}
