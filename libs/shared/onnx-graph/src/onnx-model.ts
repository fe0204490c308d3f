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

/**
 * The IR version that came with each version of the default operator set
 * (onnx/docs/Versioning.md); a model must not state an older IR than its
 * opset needs, and ONNX Runtime refuses an IR newer than it knows.
 */
const IR_VERSION_OF_OPSET: Readonly<Record<number, number>> = {
  7: 3, 8: 3, 9: 4, 10: 5, 11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10,
};

/** An empty model (no inputs, nodes or outputs) importing this version of the default operator set. */
export function createModel(opsetVersion: number, graphName = 'main'): ModelProto {
  const irVersion = IR_VERSION_OF_OPSET[opsetVersion];
  if (irVersion === undefined) throw new InvalidOnnxModelError(`opset ${opsetVersion} is not one this library can write (7 to 21)`);
  return ModelProto.fromPartial({ irVersion, producerName: 'loupe', opsetImport: [{ domain: '', version: opsetVersion }], graph: { name: graphName } });
}
