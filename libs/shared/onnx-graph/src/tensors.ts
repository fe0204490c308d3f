import { type TensorProto, TensorProto_DataType } from './generated/onnx/onnx';
import { InvalidOnnxModelError } from './onnx-model';

/** A float32 tensor, its values stored little-endian in raw_data as ONNX specifies. */
export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  checkSize(name, dims, values.length);
  const raw = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) raw.writeFloatLE(values[i]!, i * 4);
  return emptyTensor(name, dims, TensorProto_DataType.FLOAT, raw);
}

/** An int64 tensor (shapes, axes), in raw_data. */
export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  checkSize(name, dims, values.length);
  const raw = Buffer.alloc(values.length * 8);
  values.forEach((value, i) => raw.writeBigInt64LE(BigInt(value), i * 8));
  return emptyTensor(name, dims, TensorProto_DataType.INT64, raw);
}

/**
 * The values of a FLOAT or FLOAT16 tensor as float32, wherever the file keeps
 * them (raw_data or float_data). Always a copy: a decoded raw_data is a view
 * into the model's bytes at any offset, and Float32Array needs 4-byte alignment.
 */
export function readFloatTensor(tensor: TensorProto): Float32Array {
  const count = tensor.dims.reduce((product, dim) => product * dim, 1);
  const raw = tensor.rawData;
  switch (tensor.dataType) {
    case TensorProto_DataType.FLOAT: {
      if (!raw || raw.byteLength === 0) return Float32Array.from(tensor.floatData);
      expectBytes(tensor, raw.byteLength, count * 4);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
    }
    case TensorProto_DataType.FLOAT16: {
      // Without raw_data, float16 values travel as the low 16 bits of int32_data.
      const bits = raw && raw.byteLength > 0 ? halfWords(tensor, raw, count) : tensor.int32Data;
      return Float32Array.from(bits, halfToFloat);
    }
    default:
      throw new InvalidOnnxModelError(`tensor ${tensor.name ?? '(unnamed)'} holds data type ${tensor.dataType}, not float`);
  }
}

function halfWords(tensor: TensorProto, raw: Uint8Array, count: number): number[] {
  expectBytes(tensor, raw.byteLength, count * 2);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: count }, (_, i) => view.getUint16(i * 2, true));
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function emptyTensor(name: string, dims: readonly number[], dataType: TensorProto_DataType, raw: Buffer): TensorProto {
  return {
    name,
    dims: [...dims],
    dataType,
    rawData: raw,
    floatData: [],
    int32Data: [],
    stringData: [],
    int64Data: [],
    externalData: [],
    doubleData: [],
    uint64Data: [],
  };
}

function checkSize(name: string, dims: readonly number[], length: number): void {
  const expected = dims.reduce((product, dim) => product * dim, 1);
  if (expected !== length) throw new RangeError(`tensor ${name} has shape [${dims.join(', ')}] (${expected} values) but ${length} were given`);
}

function expectBytes(tensor: TensorProto, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new InvalidOnnxModelError(`tensor ${tensor.name ?? '(unnamed)'} has ${actual} bytes of data; its shape needs ${expected}`);
  }
}
