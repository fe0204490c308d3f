import { Counter, Gauge, type Registry } from 'prom-client';
import type { MqttLink } from './mqtt-link';

/**
 * Exports a link's state as `<prefix>_mqtt_connected` and
 * `<prefix>_mqtt_protocol_version`, read from the link at each scrape, and
 * `<prefix>_mqtt_connects_total`, the connections it and `extraLinks` (more
 * connections of the same process) made: one each at start, and one more
 * for every reconnect.
 */
export function registerLinkMetrics(link: MqttLink, registry: Registry, prefix: string, extraLinks: MqttLink[] = []): void {
  new Gauge({
    name: `${prefix}_mqtt_connected`,
    help: '1 while connected to the MQTT broker.',
    registers: [registry],
    collect() {
      this.set(link.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: `${prefix}_mqtt_protocol_version`,
    help: 'MQTT protocol version agreed with the broker: 5, or 4 for 3.1.1.',
    registers: [registry],
    collect() {
      this.set(link.protocolVersion);
    },
  });
  const connects = new Counter({
    name: `${prefix}_mqtt_connects_total`,
    help: 'Connections made to the MQTT broker, over all of this process\'s links: one per link at start, one more per reconnect.',
    registers: [registry],
  });
  for (const each of [link, ...extraLinks]) each.on('connected', () => connects.inc());
}
