import type { InspectRequest } from '@loupe/proto';
import { InvalidInspectRequestError } from './inspect-errors';

const STATION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Checks what the proto types cannot: the fields a station must fill in. */
export function checkInspectRequest(request: InspectRequest): void {
  if (request.stationId === '') {
    throw new InvalidInspectRequestError('station_id is required: set it to the name of the camera station, e.g. "line-3-aoi"');
  }
  if (!STATION_ID.test(request.stationId)) {
    throw new InvalidInspectRequestError(
      `station_id "${request.stationId.slice(0, 80)}" is invalid: use 1-64 letters, digits, '.', '_' or '-'`,
    );
  }
  if (request.unitSerial.length > 128) throw new InvalidInspectRequestError('unit_serial is longer than 128 characters');
  if (request.image.length === 0) {
    throw new InvalidInspectRequestError('image is empty: send the encoded bytes of a JPEG, PNG, BMP, TIFF or WebP file');
  }
}
