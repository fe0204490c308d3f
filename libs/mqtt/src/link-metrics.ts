import { Gauge, type Registry } from 'prom-client';
import type { MqttLink } from './mqtt-link';

/**
 * Exports a link's state as `<prefix>_mqtt_connected` and
 * `<prefix>_mqtt_protocol_version`, read from the link at each scrape.
 */
export function registerLinkMetrics(link: MqttLink, registry: Registry, prefix: string): void {
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
}
