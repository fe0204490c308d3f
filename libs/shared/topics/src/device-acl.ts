import { type DeviceChannel, type DeviceTopics, isTopicSegment } from './device-topics';

/**
 * Who may do what on the broker. Every broker Loupe runs on enforces these
 * rules: the embedded one calls them on each CONNECT, PUBLISH and SUBSCRIBE,
 * and the Mosquitto configuration is generated from the same grants.
 */
export type MqttAction = 'publish' | 'subscribe';

/** The cloud's own account, or one enrolled device. */
export type BrokerPrincipal = { kind: 'service' } | { kind: 'device'; siteId: string; deviceId: string };

/** What a device sends: its samples, its telemetry and the state it reports. */
export const DEVICE_PUBLISH_CHANNELS: readonly DeviceChannel[] = ['samples', 'telemetry', 'reported'];
/** What a device hears: the state the cloud wants and the acks of its samples. */
export const DEVICE_SUBSCRIBE_CHANNELS: readonly DeviceChannel[] = ['desired', 'acks'];

/**
 * A device's broker user name, which is also the only client id it may
 * connect with. The `/` cannot occur in a site or device id, so the name is
 * never ambiguous, and it is legal in a Mosquitto password file (which
 * splits at `:`), in an ACL file's `user` line and in HTTP Basic credentials.
 */
export function deviceUsername(siteId: string, deviceId: string): string {
  return `${siteId}/${deviceId}`;
}

/** Site and device from a device user name; undefined for anything else (the cloud's account, say). */
export function parseDeviceUsername(username: string): { siteId: string; deviceId: string } | undefined {
  const parts = username.split('/');
  if (parts.length !== 2) return undefined;
  const [siteId = '', deviceId = ''] = parts;
  return isTopicSegment(siteId) && isTopicSegment(deviceId) ? { siteId, deviceId } : undefined;
}

/** The exact topics one device may publish to and subscribe to: nothing else, no wildcards. */
export function deviceGrants(topics: DeviceTopics, siteId: string, deviceId: string): { publish: string[]; subscribe: string[] } {
  return {
    publish: DEVICE_PUBLISH_CHANNELS.map((channel) => topics.forDevice(siteId, deviceId, channel)),
    subscribe: DEVICE_SUBSCRIBE_CHANNELS.map((channel) => topics.forDevice(siteId, deviceId, channel)),
  };
}

const SHARE_PREFIX = '$share/';

export class DeviceAcl {
  private readonly rootLevels: string[];

  constructor(private readonly topics: DeviceTopics) {
    this.rootLevels = topics.root.split('/');
  }

  /**
   * Whether `principal` may publish to `topic`, or subscribe to the filter
   * `topic`. A device gets exactly its grants; a wildcard or shared filter
   * never equals one, so it is refused even when it would match only the
   * device's own topics. The cloud's account may do anything under the root,
   * including shared subscriptions (MQTT 5.0 section 4.8.2).
   */
  allows(principal: BrokerPrincipal, action: MqttAction, topic: string): boolean {
    if (principal.kind === 'service') return this.withinRoot(action, topic);
    // Parsing accepts only whole topics of the root, with site and device ids
    // for levels, so a wildcard or shared filter fails here: the same topics
    // deviceGrants lists, without building them on every message.
    const parsed = this.topics.parse(topic);
    return (
      parsed?.siteId === principal.siteId &&
      parsed.deviceId === principal.deviceId &&
      (action === 'publish' ? DEVICE_PUBLISH_CHANNELS : DEVICE_SUBSCRIBE_CHANNELS).includes(parsed.channel)
    );
  }

  private withinRoot(action: MqttAction, topic: string): boolean {
    let filter = topic;
    if (action === 'subscribe' && topic.startsWith(SHARE_PREFIX)) {
      const group = topic.slice(SHARE_PREFIX.length).split('/', 1)[0] ?? '';
      if (!isTopicSegment(group)) return false;
      filter = topic.slice(SHARE_PREFIX.length + group.length + 1);
    }
    const levels = filter.split('/');
    if (action === 'publish' && levels.some((level) => level === '+' || level === '#')) return false;
    return levels.length > this.rootLevels.length && this.rootLevels.every((level, index) => levels[index] === level);
  }
}
