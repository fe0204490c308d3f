// Generated from proto/ by `npm run proto:generate`; never edit generated/.
export * from './generated/loupe/v1/common';
export * from './generated/loupe/v1/inspect';
export * from './generated/loupe/v1/samples';
export * from './generated/loupe/v1/telemetry';
export * from './generated/loupe/v1/state';
export * from './generated/loupe/v1/model_registry';
export * from './generated/loupe/v1/rollouts';
export { DESCRIPTOR_SET_BASE64 } from './generated/descriptor-set';
