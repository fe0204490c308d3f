export {
  MqttConnectionLostError,
  MqttLink,
  MqttNotConnectedError,
  type MqttLinkOptions,
  type MqttLinkState,
  type MqttMessageHandler,
  type MqttProtocolVersion,
} from './mqtt-link';
export type { MqttAckingHandler } from './held-acknowledgements';
export { registerLinkMetrics } from './link-metrics';
export { DEFAULT_MAX_PACKET_BYTES, maxPacketBytesFor, MqttPacketTooLargeError, publishPacketBytes } from './packet-size';
