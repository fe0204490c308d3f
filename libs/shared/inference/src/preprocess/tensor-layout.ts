import type { InputSpec } from '../manifest/model-manifest';

/**
 * Writes one image's RGB pixels into a batch tensor at position `index`,
 * in the manifest's channel order, layout and normalization:
 * value = (pixel * scale - mean[c]) / std[c].
 */
export function writeImageTensor(pixels: Buffer, input: InputSpec, target: Float32Array, index: number): void {
  const { layout, channelOrder, normalize } = input;
  const plane = pixels.length / 3;
  const offset = index * pixels.length;
  // Source channel for each target channel: RGB keeps 0,1,2; BGR reads 2,1,0.
  const sources = channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const source = sources[c]!;
    const multiplier = normalize.scale / normalize.std[c]!;
    const shift = normalize.mean[c]! / normalize.std[c]!;
    for (let p = 0; p < plane; p++) {
      const value = pixels[p * 3 + source]! * multiplier - shift;
      target[offset + (layout === 'NCHW' ? c * plane + p : p * 3 + c)] = value;
    }
  }
}

const float32 = new Float32Array(1);
const bits = new Uint32Array(float32.buffer);

/** IEEE 754 half-precision bits of each value, rounded to nearest even; ONNX Runtime takes float16 tensors as Uint16Array. */
export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    float32[0] = values[i]!;
    const x = bits[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    let mantissa = x & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
      continue;
    }
    const halfExponent = exponent - 127 + 15;
    if (halfExponent >= 0x1f) {
      out[i] = sign | 0x7c00;
    } else if (halfExponent <= 0) {
      if (halfExponent < -10) {
        out[i] = sign;
        continue;
      }
      mantissa |= 0x800000;
      const shift = 14 - halfExponent;
      let half = mantissa >> shift;
      const remainder = mantissa & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      if (remainder > halfway || (remainder === halfway && half & 1)) half++;
      out[i] = sign | half;
    } else {
      let half = (halfExponent << 10) | (mantissa >> 13);
      const remainder = mantissa & 0x1fff;
      if (remainder > 0x1000 || (remainder === 0x1000 && half & 1)) half++;
      out[i] = sign | half;
    }
  }
  return out;
}

/** float16 bits back to numbers, for models whose outputs are float16. */
export function fromFloat16(values: Uint16Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const h = values[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) out[i] = sign * 2 ** -14 * (mantissa / 1024);
    else if (exponent === 0x1f) out[i] = mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else out[i] = sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
  }
  return out;
}
