export {
  DEFAULT_TOPIC_ROOT,
  DEVICE_CHANNELS,
  DeviceTopics,
  InvalidTopicSegmentError,
  isTopicRoot,
  isTopicSegment,
  TOPIC_ROOT_RULE,
  type DeviceChannel,
  type DeviceTopic,
} from './device-topics';
export {
  DeviceAcl,
  deviceGrants,
  deviceUsername,
  parseDeviceUsername,
  type BrokerPrincipal,
  type MqttAction,
} from './device-acl';
