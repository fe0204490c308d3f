import type { IPublishPacket } from 'mqtt';

export type MqttMessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => void;

/** Settles once the message is safely handled; only then is it acknowledged to the broker. */
export type MqttAckingHandler = (topic: string, payload: Buffer) => Promise<void>;

/** A filter the router cannot take: a wildcard inside a level, `#` before the last level, or a shared-subscription prefix. */
export class InvalidTopicFilterError extends Error {
  constructor(filter: string, why: string) {
    super(`invalid MQTT topic filter ${JSON.stringify(filter)}: ${why}`);
    this.name = 'InvalidTopicFilterError';
  }
}

/**
 * Whether `topic` matches `filter` by the rules of MQTT 5.0 section 4.7:
 * `+` matches exactly one level (an empty one too), `#` matches its parent
 * level and any number of levels below it, and a filter starting with a
 * wildcard does not match a topic starting with `$` (section 4.7.2), so
 * `#` never reaches `$SYS` or `$CONTROL`.
 */
export function matchesTopicFilter(filter: string, topic: string): boolean {
  const filterLevels = filter.split('/');
  const first = filterLevels[0];
  if (topic.startsWith('$') && (first === '+' || first === '#')) return false;
  const topicLevels = topic.split('/');
  for (let index = 0; index < filterLevels.length; index++) {
    const level = filterLevels[index];
    if (level === '#') return true;
    if (index >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[index]) return false;
  }
  return filterLevels.length === topicLevels.length;
}

/** Throws InvalidTopicFilterError unless `filter` is one the broker would accept (MQTT 5.0 section 4.7.1), without `$share/`. */
export function checkTopicFilter(filter: string): void {
  if (filter.length === 0) throw new InvalidTopicFilterError(filter, 'empty');
  // The broker delivers a shared subscription's messages under their own topics.
  if (filter.startsWith('$share/')) throw new InvalidTopicFilterError(filter, 'route on the filter without its $share/<group>/ prefix');
  const levels = filter.split('/');
  levels.forEach((level, index) => {
    if (level.length > 1 && (level.includes('+') || level.includes('#'))) throw new InvalidTopicFilterError(filter, 'a wildcard must take a whole level');
    if (level === '#' && index !== levels.length - 1) throw new InvalidTopicFilterError(filter, '# must be the last level');
  });
}

interface Route<Handler> {
  filter: string;
  handler: Handler;
}

/**
 * Hands each incoming message to the handlers whose filter its topic
 * matches, so a consumer sees only its own messages. Plain handlers run at
 * once; acking handlers decide when the message is acknowledged.
 */
export class TopicRouter {
  private readonly plain: Route<MqttMessageHandler>[] = [];
  private readonly acking: Route<MqttAckingHandler>[] = [];

  onMessage(filter: string, handler: MqttMessageHandler): void {
    checkTopicFilter(filter);
    this.plain.push({ filter, handler });
  }

  ackAfter(filter: string, handler: MqttAckingHandler): void {
    checkTopicFilter(filter);
    this.acking.push({ filter, handler });
  }

  /** Calls every matching plain handler; one that throws is reported and does not stop the others. */
  deliver(topic: string, payload: Buffer, packet: IPublishPacket, onError: (error: Error) => void): void {
    for (const { filter, handler } of this.plain) {
      if (!matchesTopicFilter(filter, topic)) continue;
      try {
        handler(topic, payload, packet);
      } catch (error) {
        onError(error as Error);
      }
    }
  }

  /**
   * Settles when every matching acking handler has; a message none of them
   * takes is done at once.
   */
  handle(topic: string, payload: Buffer): Promise<void> {
    const matching = this.acking.filter(({ filter }) => matchesTopicFilter(filter, topic));
    if (matching.length === 0) return Promise.resolve();
    if (matching.length === 1) return matching[0]!.handler(topic, payload);
    // An async wrapper turns a handler's throw into a rejection, as the single handler's own would be.
    return Promise.all(matching.map(async ({ handler }) => handler(topic, payload))).then(() => undefined);
  }
}
