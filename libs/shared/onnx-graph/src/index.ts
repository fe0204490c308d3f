export { ModelProto, type GraphProto, type NodeProto, type TensorProto, TensorProto_DataType, type ValueInfoProto } from './generated/onnx/onnx';
export { createModel, InvalidOnnxModelError, readOnnxModel, writeOnnxModel } from './onnx-model';
export { floatTensor, int64Tensor, readFloatTensor } from './tensors';
export { GraphEditor, valueInfo, type AttributeValue, type Dimension } from './graph-editor';
export { prepareBackbone, type BackboneOptions } from './backbone';
export { featureMapGeometry, type AxisGeometry, type FeatureMapGeometry } from './feature-map-geometry';
export { graftGraph, type GraftedNames } from './graft';
