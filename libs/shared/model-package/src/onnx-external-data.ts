import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

// Field numbers from onnx.proto3 (ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto, SparseTensorProto, StringStringEntryProto).
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_SPARSE_INITIALIZER = 15;
const NODE_ATTRIBUTE = 5;
const ATTRIBUTE_TENSOR = 5;
const ATTRIBUTE_GRAPH = 6;
const ATTRIBUTE_TENSORS = 10;
const ATTRIBUTE_GRAPHS = 11;
const SPARSE_VALUES = 1;
const SPARSE_INDICES = 2;
const TENSOR_EXTERNAL_DATA = 13;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;

/**
 * The files an ONNX model's tensors keep their data in, outside the model
 * file (the `location` of each external-data tensor, in graphs, subgraphs
 * and node attributes). onnxruntime opens these relative to the model, so
 * a package must check them before the model is loaded.
 */
export function externalDataLocations(model: Uint8Array): string[] {
  const locations = new Set<string>();
  forEachField(model, (field, reader) => {
    if (field === MODEL_GRAPH) readGraph(reader.bytes(), locations, 0);
    else return false;
    return true;
  });
  return [...locations];
}

// Nested graphs (If, Loop, Scan bodies) are rare and shallow; the bound
// keeps a crafted file from recursing without end.
const MAX_GRAPH_DEPTH = 32;

function readGraph(graph: Uint8Array, locations: Set<string>, depth: number): void {
  if (depth > MAX_GRAPH_DEPTH) throw new Error(`graphs nested deeper than ${MAX_GRAPH_DEPTH}`);
  forEachField(graph, (field, reader) => {
    if (field === GRAPH_INITIALIZER) readTensor(reader.bytes(), locations);
    else if (field === GRAPH_SPARSE_INITIALIZER) readSparseTensor(reader.bytes(), locations);
    else if (field === GRAPH_NODE) readNode(reader.bytes(), locations, depth);
    else return false;
    return true;
  });
}

function readNode(node: Uint8Array, locations: Set<string>, depth: number): void {
  forEachField(node, (field, reader) => {
    if (field !== NODE_ATTRIBUTE) return false;
    forEachField(reader.bytes(), (attributeField, attribute) => {
      if (attributeField === ATTRIBUTE_TENSOR || attributeField === ATTRIBUTE_TENSORS) readTensor(attribute.bytes(), locations);
      else if (attributeField === ATTRIBUTE_GRAPH || attributeField === ATTRIBUTE_GRAPHS) readGraph(attribute.bytes(), locations, depth + 1);
      else return false;
      return true;
    });
    return true;
  });
}

function readSparseTensor(sparse: Uint8Array, locations: Set<string>): void {
  forEachField(sparse, (field, reader) => {
    if (field !== SPARSE_VALUES && field !== SPARSE_INDICES) return false;
    readTensor(reader.bytes(), locations);
    return true;
  });
}

function readTensor(tensor: Uint8Array, locations: Set<string>): void {
  forEachField(tensor, (field, reader) => {
    if (field !== TENSOR_EXTERNAL_DATA) return false;
    let key = '';
    let value = '';
    forEachField(reader.bytes(), (entryField, entry) => {
      if (entryField === ENTRY_KEY) key = entry.string();
      else if (entryField === ENTRY_VALUE) value = entry.string();
      else return false;
      return true;
    });
    if (key === 'location') locations.add(value);
    return true;
  });
}

/** Calls `read` for each field; a field it does not read (returns false) is skipped. */
function forEachField(bytes: Uint8Array, read: (field: number, reader: BinaryReader) => boolean): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (wireType === WireType.LengthDelimited && read(field, reader)) continue;
    reader.skip(wireType, field);
  }
}
