export {
  MqttConnectionLostError,
  MqttLink,
  MqttNotConnectedError,
  type MqttLinkOptions,
  type MqttLinkState,
  type MqttProtocolVersion,
} from './mqtt-link';
export {
  checkTopicFilter,
  InvalidTopicFilterError,
  matchesTopicFilter,
  TopicRouter,
  type MqttAckingHandler,
  type MqttMessageHandler,
} from './topic-router';
export { registerLinkMetrics } from './link-metrics';
export { DEFAULT_MAX_PACKET_BYTES, maxPacketBytesFor, MqttPacketTooLargeError, publishPacketBytes } from './packet-size';
