import fc from 'fast-check';
import type { IPublishPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { checkTopicFilter, InvalidTopicFilterError, matchesTopicFilter, TopicRouter } from './topic-router';

/** MQTT 5.0 section 4.7 written as a regular expression, to check the level walk against. */
function referenceMatch(filter: string, topic: string): boolean {
  if (/^[+#]/.test(filter) && topic.startsWith('$')) return false;
  const escape = (level: string) => level.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const body = filter
    .split('/')
    .map((level) => (level === '+' ? '[^/]*' : level === '#' ? '#' : escape(level)))
    .join('/');
  const pattern = body === '#' ? '.*' : body.endsWith('/#') ? `${body.slice(0, -2)}(/.*)?` : body;
  return new RegExp(`^${pattern}$`, 's').test(topic);
}

// Few level names, so that filters and topics share levels often; empty
// levels and `$` levels are where the rules have corners.
const level = fc.constantFrom('a', 'b', '', '$SYS', 'c.d');
const topicLevels = fc.array(level, { minLength: 1, maxLength: 5 }).filter((levels) => levels.join('/').length > 0);
const filterLevel = fc.oneof(level, fc.constant('+'));
const filter = fc
  .tuple(fc.array(filterLevel, { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([levels, multi]) => (multi ? [...levels.slice(0, -1), '#'] : levels).join('/'));
/** A topic and a filter made from it by replacing levels with `+` and cutting its tail with `#`, so most pairs match. */
const derivedPair = fc.tuple(topicLevels, fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), fc.nat(5)).map(([levels, plus, cut]) => {
  const generalised = levels.map((each, index) => (plus[index] ? '+' : each));
  const filterLevels = cut > 0 && cut <= generalised.length ? [...generalised.slice(0, generalised.length - cut), '#'] : generalised;
  return { filter: filterLevels.join('/'), topic: levels.join('/') };
});

describe('matchesTopicFilter', () => {
  it('agrees with the reference on any filter and topic', () => {
    fc.assert(
      fc.property(filter, topicLevels, (each, levels) => {
        const topic = levels.join('/');
        expect(matchesTopicFilter(each, topic)).toBe(referenceMatch(each, topic));
      }),
      { numRuns: 2_000 },
    );
  });

  it('agrees with the reference on filters made from the topic', () => {
    fc.assert(
      fc.property(derivedPair, ({ filter: each, topic }) => {
        expect(matchesTopicFilter(each, topic)).toBe(referenceMatch(each, topic));
      }),
      { numRuns: 2_000 },
    );
  });

  it('follows the examples of MQTT 5.0 section 4.7', () => {
    const cases: [string, string, boolean][] = [
      ['sport/tennis/player1/#', 'sport/tennis/player1', true],
      ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
      ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
      ['sport/#', 'sport', true],
      ['sport/tennis/+', 'sport/tennis/player1', true],
      ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
      ['sport/+', 'sport', false],
      ['sport/+', 'sport/', true],
      ['+/+', '/finance', true],
      ['/+', '/finance', true],
      ['+', '/finance', false],
      ['#', '$SYS/broker/uptime', false],
      ['+/monitor/Clients', '$SYS/monitor/Clients', false],
      ['$SYS/#', '$SYS/broker/uptime', true],
      ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
    ];
    for (const [each, topic, matches] of cases) expect({ each, topic, matches: matchesTopicFilter(each, topic) }).toEqual({ each, topic, matches });
  });
});

describe('checkTopicFilter', () => {
  it('refuses wildcards inside a level, # before the end and a share prefix', () => {
    for (const bad of ['', 'a/b#', 'a/+b', 'a/#/b', '$share/g/a/+']) expect(() => checkTopicFilter(bad)).toThrow(InvalidTopicFilterError);
    for (const good of ['#', '+', 'a/+/b', 'a/#', '$CONTROL/dynamic-security/v1/response']) expect(() => checkTopicFilter(good)).not.toThrow();
  });
});

describe('TopicRouter', () => {
  const packet = {} as IPublishPacket;

  it('hands each handler only the messages its filter matches, and goes on past one that throws', () => {
    const router = new TopicRouter();
    const seen: string[] = [];
    router.onMessage('root/+/+/telemetry', (topic) => seen.push(`telemetry ${topic}`));
    router.onMessage('root/#', () => {
      throw new Error('broken');
    });
    router.onMessage('root/s/d/acks', (topic) => seen.push(`acks ${topic}`));
    const errors: string[] = [];
    for (const topic of ['root/s/d/telemetry', 'root/s/d/acks', 'other/s/d/telemetry']) router.deliver(topic, Buffer.alloc(0), packet, (error) => errors.push(error.message));
    expect(seen).toEqual(['telemetry root/s/d/telemetry', 'acks root/s/d/acks']);
    expect(errors).toEqual(['broken', 'broken']);
  });

  it('settles a message once every matching acking handler has, at once when none matches, and fails with any of them', async () => {
    const router = new TopicRouter();
    const handled: string[] = [];
    router.ackAfter('root/+/+/samples', (topic) => {
      handled.push(`samples ${topic}`);
      return Promise.resolve();
    });
    router.ackAfter('root/bad/+/samples', () => Promise.reject(new Error('not stored')));
    await expect(router.handle('root/s/d/samples', Buffer.alloc(0))).resolves.toBeUndefined();
    await expect(router.handle('root/s/d/telemetry', Buffer.alloc(0))).resolves.toBeUndefined();
    await expect(router.handle('root/bad/d/samples', Buffer.alloc(0))).rejects.toThrow('not stored');
    expect(handled).toEqual(['samples root/s/d/samples', 'samples root/bad/d/samples']);
  });
});
