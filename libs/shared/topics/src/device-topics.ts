/**
 * MQTT topic names shared by the edge agent and the cloud.
 *
 *   {root}/{site}/{device}/samples     edge -> cloud  SampleUpload
 *   {root}/{site}/{device}/telemetry   edge -> cloud  Telemetry
 *   {root}/{site}/{device}/reported    edge -> cloud  ReportedState
 *   {root}/{site}/{device}/desired     cloud -> edge  DesiredState (retained)
 *   {root}/{site}/{device}/acks        cloud -> edge  SampleAck
 *
 * The root is `loupe/v1` in production. A deployment that shares a broker
 * with others (or a test that shares one with parallel tests) gives each its
 * own root, e.g. `staging/loupe/v1`.
 */
export const DEFAULT_TOPIC_ROOT = 'loupe/v1';

export const DEVICE_CHANNELS = ['samples', 'telemetry', 'reported', 'desired', 'acks'] as const;
export type DeviceChannel = (typeof DEVICE_CHANNELS)[number];

export interface DeviceTopic {
  siteId: string;
  deviceId: string;
  channel: DeviceChannel;
}

// Site and device ids become single topic levels, so they must not contain
// the level separator or the wildcards `+` and `#` (MQTT 5.0 section 4.7),
// nor start with `$`, which brokers reserve (section 4.7.2).
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isTopicSegment(value: string): boolean {
  return SEGMENT.test(value);
}

export class InvalidTopicSegmentError extends Error {
  constructor(what: string, value: string) {
    super(
      `${what} "${value}" cannot be used in an MQTT topic: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
    this.name = 'InvalidTopicSegmentError';
  }
}

/** A root for every topic: levels without wildcards or empty levels, not starting with `$`. */
export function isTopicRoot(root: string): boolean {
  return root.length > 0 && !root.startsWith('$') && root.split('/').every((level) => level.length > 0 && !/[+#]/.test(level));
}

export const TOPIC_ROOT_RULE = "must be topic levels separated by '/', without wildcards (+, #), empty levels or a leading '$'";

export class DeviceTopics {
  private readonly rootLevels: number;

  constructor(readonly root: string = DEFAULT_TOPIC_ROOT) {
    if (!isTopicRoot(root)) throw new Error(`MQTT topic root "${root}" ${TOPIC_ROOT_RULE}`);
    this.rootLevels = root.split('/').length;
  }

  /** The topic one device uses for one channel. */
  forDevice(siteId: string, deviceId: string, channel: DeviceChannel): string {
    if (!isTopicSegment(siteId)) throw new InvalidTopicSegmentError('site id', siteId);
    if (!isTopicSegment(deviceId)) throw new InvalidTopicSegmentError('device id', deviceId);
    return `${this.root}/${siteId}/${deviceId}/${channel}`;
  }

  /** A filter matching one channel of every device. */
  allDevices(channel: DeviceChannel): string {
    return `${this.root}/+/+/${channel}`;
  }

  /**
   * A shared-subscription filter (MQTT 5.0 section 4.8.2): the broker hands
   * each message to one member of `group`, so cloud replicas split the load.
   */
  sharedAllDevices(group: string, channel: DeviceChannel): string {
    if (!isTopicSegment(group)) throw new InvalidTopicSegmentError('share group', group);
    return `$share/${group}/${this.allDevices(channel)}`;
  }

  /** Reads site, device and channel from a topic; undefined if it is not ours. */
  parse(topic: string): DeviceTopic | undefined {
    const levels = topic.split('/');
    if (levels.length !== this.rootLevels + 3) return undefined;
    if (levels.slice(0, this.rootLevels).join('/') !== this.root) return undefined;
    const [siteId = '', deviceId = '', channel = ''] = levels.slice(this.rootLevels);
    if (!isTopicSegment(siteId) || !isTopicSegment(deviceId)) return undefined;
    if (!(DEVICE_CHANNELS as readonly string[]).includes(channel)) return undefined;
    return { siteId, deviceId, channel: channel as DeviceChannel };
  }
}
