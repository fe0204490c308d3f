import { ModelProto } from './generated/onnx/onnx';

/** Bytes that are not an ONNX model this library can work on, and why. */
export class InvalidOnnxModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOnnxModelError';
  }
}

/**
 * Reads an ONNX model (a serialized onnx.ModelProto). Fields a newer ONNX
 * release wrote and onnx.proto 1.12 does not describe are kept as unknown
 * fields, so `writeOnnxModel` gives them back.
 */
export function readOnnxModel(bytes: Uint8Array): ModelProto {
  let model: ModelProto;
  try {
    model = ModelProto.decode(bytes);
  } catch (error) {
    throw new InvalidOnnxModelError(`not an ONNX model: ${(error as Error).message}`);
  }
  if (!model.graph) throw new InvalidOnnxModelError('the ONNX model has no graph');
  if (!model.irVersion) throw new InvalidOnnxModelError('the ONNX model does not state its IR version');
  if (!model.opsetImport.some((opset) => (opset.domain ?? '') === '')) {
    throw new InvalidOnnxModelError('the ONNX model imports no version of the default operator set');
  }
  return model;
}

/**
 * Serializes a model. Repeated numbers are written packed, which every ONNX
 * reader accepts (protobuf parsers must read both encodings), so the bytes
 * can differ from the file that was read while the model is the same.
 */
export function writeOnnxModel(model: ModelProto): Uint8Array {
  return ModelProto.encode(model).finish();
}
