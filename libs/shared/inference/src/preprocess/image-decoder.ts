import sharp, { type Metadata, type Sharp } from 'sharp';
import type { InputSpec } from '../manifest/model-manifest';
import { bmpDimensions, decodeBmp } from './bmp-decoder';
import { checkImageStructure, imageFormat, type ImageFormat } from './image-structure';
import { DamagedImageError, InvalidImageError } from './invalid-image.error';

/** 50 megapixels: the largest industrial area-scan cameras in common use. */
export const DEFAULT_MAX_IMAGE_PIXELS = 50_000_000;

/**
 * Where the model's input pixels came from in the original image, so boxes
 * map back: original = (model - pad) / scale + offset, per axis.
 */
export interface ImageGeometry {
  width: number;
  height: number;
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
  offsetX: number;
  offsetY: number;
}

export interface DecodedImage {
  /** Interleaved RGB, 8 bits per channel, at the model's input size. */
  pixels: Buffer;
  geometry: ImageGeometry;
}

/** A rectangle of the (EXIF-oriented) image, in pixels. */
export interface PixelRegion {
  left: number;
  top: number;
  width: number;
  height: number;
}

export function inputSize(input: InputSpec): { width: number; height: number } {
  return input.layout === 'NCHW'
    ? { height: input.shape[2], width: input.shape[3] }
    : { height: input.shape[1], width: input.shape[2] };
}

/**
 * Decodes an encoded image (JPEG, PNG, BMP, TIFF, WebP) into the model's
 * input pixels: EXIF orientation applied, grey and alpha turned into three
 * colour channels, resized as the manifest says. The pixel count is checked
 * from the header before anything is decoded, so a hostile header cannot
 * make the agent allocate gigabytes. A damaged file is refused, never
 * judged: its structure is checked first (checkImageStructure), and any
 * warning from the decoder counts as damage, since libjpeg and libpng
 * warn, fill in grey and go on where data is missing or corrupt.
 * With `region`, only that part of the image (clipped to it) is resized
 * into the input, as a crop around a labeled box is for training.
 */
export async function decodeImage(bytes: Buffer, input: InputSpec, maxPixels = DEFAULT_MAX_IMAGE_PIXELS, region?: PixelRegion): Promise<DecodedImage> {
  if (bytes.length === 0) throw new InvalidImageError('image is empty: send the encoded bytes of a JPEG, PNG, BMP, TIFF or WebP file');
  const format = imageFormat(bytes);
  if (!format) throw await unsupportedFormat(bytes);
  const header = await readHeader(bytes, format);
  if (!header.readable) {
    // The structure checks say best what is wrong with a header libvips cannot read.
    await checkImageStructure(bytes, format);
    throw new DamagedImageError(`its ${format} header cannot be read (${header.reason})`);
  }
  const { width, height, orientation } = header;
  if (width * height > maxPixels) {
    throw new InvalidImageError(
      `image is ${width}x${height} (${megapixels(width * height)} MP); the limit is ${megapixels(maxPixels)} MP`,
    );
  }
  const source = format === 'bmp' ? rawSource(bytes) : sharp(bytes, { failOn: 'warning', limitInputPixels: maxPixels }).rotate();
  // EXIF orientations 5-8 swap width and height.
  const oriented = orientation >= 5 ? { width: height, height: width } : { width, height };
  const area = region ? clipRegion(region, oriented) : { left: 0, top: 0, ...oriented };
  const { pipeline, geometry } = resize(source.removeAlpha().toColourspace('srgb'), oriented, area, input);
  // libvips decodes on its own threads while the structure is checked here; a damaged image's pixels are dropped.
  const decoding = pipeline.raw().toBuffer();
  void decoding.catch(() => undefined);
  // After the size check, so that a hostile header cannot make the checks walk a huge image.
  await checkImageStructure(bytes, format);
  try {
    return { pixels: await decoding, geometry };
  } catch (error) {
    throw decodeFailure(format, error);
  }
}

type Header = { readable: true; width: number; height: number; orientation: number } | { readable: false; reason: string };

/** Size and EXIF orientation from the header alone, in one pass. */
async function readHeader(bytes: Buffer, format: ImageFormat): Promise<Header> {
  if (format === 'bmp') return { readable: true, ...bmpDimensions(bytes), orientation: 1 };
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    return { readable: false, reason: firstLine(error) };
  }
  if (!metadata.width || !metadata.height) return { readable: false, reason: 'it has no dimensions' };
  return { readable: true, width: metadata.width, height: metadata.height, orientation: metadata.orientation ?? 1 };
}

/** GIF, AVIF, SVG and the rest: named when libvips knows them, so the integrator knows what was sent. */
async function unsupportedFormat(bytes: Buffer): Promise<InvalidImageError> {
  const format = await sharp(bytes, { limitInputPixels: false })
    .metadata()
    .then((metadata) => metadata.format)
    .catch(() => undefined);
  return new InvalidImageError(
    format ? `image format ${format} is not supported: send JPEG, PNG, BMP, TIFF or WebP` : 'image format not recognised: send JPEG, PNG, BMP, TIFF or WebP bytes',
  );
}

/**
 * The file passed the structure checks, so a decoder that fails or warns
 * found corrupt data, except where it names a variant it does not support.
 */
function decodeFailure(format: ImageFormat, error: unknown): InvalidImageError {
  const reason = decoderReason(error);
  if (/unsupported|not supported/i.test(reason)) return new InvalidImageError(`image could not be decoded: ${reason}`);
  return new DamagedImageError(`the ${format} decoder reports "${reason}"`);
}

function rawSource(bytes: Buffer): Sharp {
  const image = decodeBmp(bytes);
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
}

/** The part of `region` inside the image, in whole pixels; refused when nothing is left. */
function clipRegion(region: PixelRegion, image: { width: number; height: number }): PixelRegion {
  const left = Math.max(0, Math.floor(region.left));
  const top = Math.max(0, Math.floor(region.top));
  const right = Math.min(image.width, Math.ceil(region.left + region.width));
  const bottom = Math.min(image.height, Math.ceil(region.top + region.height));
  if (!(right > left && bottom > top)) {
    throw new InvalidImageError(`region ${region.width}x${region.height} at (${region.left}, ${region.top}) lies outside the ${image.width}x${image.height} image`);
  }
  return { left, top, width: right - left, height: bottom - top };
}

/** The resize of `area` into the input; the geometry maps input pixels back to the whole image. */
function resize(image: Sharp, whole: { width: number; height: number }, area: PixelRegion, input: InputSpec): { pipeline: Sharp; geometry: ImageGeometry } {
  const { width, height } = inputSize(input);
  const base = { width: whole.width, height: whole.height, padX: 0, padY: 0, offsetX: area.left, offsetY: area.top };
  const isWhole = area.width === whole.width && area.height === whole.height;
  // Sharp keeps one extract before the resize: the area's, or for a centre crop the square inside it.
  const cropped = () => (isWhole ? image : image.extract(area));
  const original = { width: area.width, height: area.height };
  const { resize: mode } = input;
  switch (mode.mode) {
    case 'stretch':
      return {
        pipeline: cropped().resize(width, height, { fit: 'fill', kernel: mode.kernel }),
        geometry: { ...base, scaleX: width / original.width, scaleY: height / original.height },
      };
    case 'letterbox': {
      const ratio = Math.min(width / original.width, height / original.height);
      const scaledWidth = Math.max(1, Math.round(original.width * ratio));
      const scaledHeight = Math.max(1, Math.round(original.height * ratio));
      const padX = mode.anchor === 'center' ? Math.floor((width - scaledWidth) / 2) : 0;
      const padY = mode.anchor === 'center' ? Math.floor((height - scaledHeight) / 2) : 0;
      const pad = mode.padValue;
      return {
        pipeline: cropped().resize(scaledWidth, scaledHeight, { fit: 'fill', kernel: mode.kernel }).extend({
          left: padX,
          top: padY,
          right: width - scaledWidth - padX,
          bottom: height - scaledHeight - padY,
          background: { r: pad, g: pad, b: pad },
        }),
        geometry: { ...base, scaleX: scaledWidth / original.width, scaleY: scaledHeight / original.height, padX, padY },
      };
    }
    case 'center-crop': {
      const side = Math.min(original.width, original.height);
      const offsetX = area.left + Math.floor((original.width - side) / 2);
      const offsetY = area.top + Math.floor((original.height - side) / 2);
      const cropLeft = Math.floor((mode.resizeTo - width) / 2);
      const cropTop = Math.floor((mode.resizeTo - height) / 2);
      const scale = mode.resizeTo / side;
      return {
        pipeline: image
          .extract({ left: offsetX, top: offsetY, width: side, height: side })
          .resize(mode.resizeTo, mode.resizeTo, { fit: 'fill', kernel: mode.kernel })
          .extract({ left: cropLeft, top: cropTop, width, height }),
        geometry: { ...base, scaleX: scale, scaleY: scale, padX: -cropLeft, padY: -cropTop, offsetX, offsetY },
      };
    }
  }
}

function megapixels(pixels: number): string {
  return (pixels / 1_000_000).toFixed(1).replace(/\.0$/, '');
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/** libvips wraps what the decoder said in lines of its own ("Warning treated as error...", "error in tile..."). */
function decoderReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = message.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.find((line) => !/^(warning treated as error|error in tile)/i.test(line)) ?? lines[0] ?? 'no reason given';
}
