import sharp from 'sharp';
import type { AnomalyMapSpec } from '../manifest/model-manifest';
import type { ImageGeometry } from '../preprocess/image-decoder';
import { originalBox, type OriginalBox } from './original-box';

/** A score map as one byte per cell: small enough to travel with every sample (79 x 79 cells: 6 KB, less as PNG). */
export interface HeatMap {
  width: number;
  height: number;
  /** Row-major; 0 is a score of 0, 255 a score of `fullScale` or more. */
  values: Uint8Array;
  fullScale: number;
}

/**
 * Quantizes one image's score map (row-major [height, width]). By default
 * 255 stands for twice the threshold, so the threshold itself sits in the
 * middle of the range and a viewer can draw it as one colour stop.
 * Values that are not finite (a broken model) count as 0.
 */
export function quantizeHeatMap(map: Float32Array, spec: Pick<AnomalyMapSpec, 'width' | 'height'>, threshold: number, fullScale = 2 * threshold): HeatMap {
  checkMapSize(map, spec);
  if (!(fullScale > 0) || !Number.isFinite(fullScale)) throw new RangeError(`the heat map's full scale must be a positive number, not ${fullScale}`);
  const values = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) {
    const score = map[i]!;
    values[i] = Number.isFinite(score) ? Math.round(Math.min(Math.max(score / fullScale, 0), 1) * 255) : 0;
  }
  return { width: spec.width, height: spec.height, values, fullScale };
}

/** The heat map as an 8-bit greyscale PNG, one pixel per cell: the form uploaded beside a sample's image. */
export async function heatMapPng(heatMap: HeatMap): Promise<Buffer> {
  return sharp(Buffer.from(heatMap.values.buffer, heatMap.values.byteOffset, heatMap.values.byteLength), {
    raw: { width: heatMap.width, height: heatMap.height, channels: 1 },
  })
    .toColourspace('b-w')
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/** A connected area of high cells, as a box on the original image. */
export interface AnomalyRegion extends OriginalBox {
  /** The highest cell of the area. */
  score: number;
  /** Cells in the area. */
  cells: number;
}

export interface RegionOptions {
  /** Cells at or above this score form regions (the threshold, or a fraction of it for near misses). */
  level: number;
  /** Regions to return at most, highest first. */
  limit: number;
}

/**
 * The top regions of one image's score map: areas of 8-connected cells at
 * or above `level`, ranked by their highest cell. A region's box spans its
 * cells (each a stride wide around its centre), undone through the resize
 * to pixels of the original image when `image` is given, of the model's
 * input otherwise.
 */
export function topRegions(map: Float32Array, spec: AnomalyMapSpec, options: RegionOptions, image?: ImageGeometry): AnomalyRegion[] {
  checkMapSize(map, spec);
  if (!Number.isInteger(options.limit) || options.limit < 0) throw new RangeError(`a region limit must be a whole number, not ${options.limit}`);
  const { width, height } = spec;
  const seen = new Uint8Array(map.length);
  const regions: AnomalyRegion[] = [];
  for (let start = 0; start < map.length; start++) {
    if (seen[start] || !(map[start]! >= options.level)) continue;
    const area = { minColumn: width, maxColumn: -1, minRow: height, maxRow: -1, peak: Number.NEGATIVE_INFINITY, cells: 0 };
    const stack = [start];
    seen[start] = 1;
    while (stack.length > 0) {
      const cell = stack.pop()!;
      const [row, column] = [Math.floor(cell / width), cell % width];
      area.minColumn = Math.min(area.minColumn, column);
      area.maxColumn = Math.max(area.maxColumn, column);
      area.minRow = Math.min(area.minRow, row);
      area.maxRow = Math.max(area.maxRow, row);
      area.peak = Math.max(area.peak, map[cell]!);
      area.cells++;
      for (let y = Math.max(0, row - 1); y <= Math.min(height - 1, row + 1); y++) {
        for (let x = Math.max(0, column - 1); x <= Math.min(width - 1, column + 1); x++) {
          const next = y * width + x;
          if (!seen[next] && map[next]! >= options.level) {
            seen[next] = 1;
            stack.push(next);
          }
        }
      }
    }
    regions.push({ ...areaBox(area, spec, image), score: area.peak, cells: area.cells });
  }
  return regions.sort((a, b) => b.score - a.score).slice(0, options.limit);
}

function areaBox(area: { minColumn: number; maxColumn: number; minRow: number; maxRow: number }, spec: AnomalyMapSpec, image?: ImageGeometry): OriginalBox {
  const [strideX, strideY] = spec.stride;
  const [offsetX, offsetY] = spec.offset;
  const box = {
    x1: offsetX + strideX * area.minColumn - strideX / 2,
    x2: offsetX + strideX * area.maxColumn + strideX / 2,
    y1: offsetY + strideY * area.minRow - strideY / 2,
    y2: offsetY + strideY * area.maxRow + strideY / 2,
  };
  if (image) return originalBox(box, image);
  return { x: box.x1, y: box.y1, width: box.x2 - box.x1, height: box.y2 - box.y1 };
}

function checkMapSize(map: Float32Array, spec: Pick<AnomalyMapSpec, 'width' | 'height'>): void {
  if (map.length !== spec.width * spec.height) {
    throw new RangeError(`the model emitted ${map.length} map cells; the manifest's ${spec.width}x${spec.height} map has ${spec.width * spec.height}`);
  }
}
