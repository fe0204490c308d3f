import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Service {
  restart?: string;
  healthcheck?: { test?: unknown };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
}

interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readFileSync(join(import.meta.dirname, 'docker-compose.yml'), 'utf8')) as Compose;
const services = Object.entries(compose.services);

/** Services others wait on to finish (`service_completed_successfully`): one-shot jobs, not daemons. */
const oneShot = new Set(
  services.flatMap(([, service]) =>
    Object.entries(service.depends_on ?? {})
      .filter(([, { condition }]) => condition === 'service_completed_successfully')
      .map(([name]) => name),
  ),
);

const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|ACCESS_KEY|MC_HOST)/i;

describe('infra/docker-compose.yml', () => {
  it('restarts every long-running service on its own and checks its health', () => {
    for (const [name, service] of services.filter(([name]) => !oneShot.has(name))) {
      expect(service.restart, name).toBe('unless-stopped');
      expect(service.healthcheck?.test, name).toBeDefined();
    }
  });

  it('retries a failed one-shot job', () => {
    expect([...oneShot].sort()).toEqual(['create-bucket', 'mosquitto-init']);
    for (const name of oneShot) expect(compose.services[name]?.restart, name).toBe('on-failure');
  });

  it('takes every secret from the environment, never a literal', () => {
    const secrets = services.flatMap(([name, service]) =>
      Object.entries(service.environment ?? {})
        .filter(([key]) => SECRET_NAME.test(key))
        .map(([key, value]) => ({ name, key, value })),
    );
    expect(secrets.length).toBeGreaterThan(5);
    for (const { name, key, value } of secrets) {
      // Every secret part of the value is a ${VAR} reference, e.g. a URL built from ${USER}:${PASSWORD}.
      expect(value.replace(/\$\{[A-Z0-9_]+\}/g, ''), `${name}.${key}`).toMatch(/^[a-z0-9:/@.]*$/);
      expect(value, `${name}.${key}`).toMatch(/\$\{[A-Z0-9_]+\}/);
    }
    expect(compose.services.cloud?.environment?.DATABASE_URL).toBe('postgresql://${POSTGRES_USER}:${POSTGRES_PASSWORD}@postgres:5432/${POSTGRES_DB}');
  });

  it('lists in .env.example every variable the file refers to', () => {
    const text = readFileSync(join(import.meta.dirname, 'docker-compose.yml'), 'utf8');
    const used = new Set([...text.matchAll(/(?<!\$)\$\{([A-Z0-9_]+)\}/g)].map((match) => match[1]));
    const example = readFileSync(join(import.meta.dirname, '.env.example'), 'utf8');
    const listed = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((match) => match[1]));
    expect([...used].filter((name) => !listed.has(name))).toEqual([]);
    expect([...listed].filter((name) => !used.has(name))).toEqual([]);
  });

  it('declares every named volume it mounts', () => {
    const named = services.flatMap(([, service]) =>
      (service.volumes ?? []).map((volume) => volume.split(':')[0]!).filter((source) => !source.startsWith('.') && !source.startsWith('/') && !source.startsWith('$')),
    );
    expect(named.length).toBeGreaterThan(0);
    for (const volume of named) expect(Object.keys(compose.volumes ?? {}), volume).toContain(volume);
  });

  it('starts the cloud only once PostgreSQL, Mosquitto and the object store are healthy and the bucket exists', () => {
    expect(compose.services.cloud?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      mosquitto: { condition: 'service_healthy' },
      objectstore: { condition: 'service_healthy' },
      'create-bucket': { condition: 'service_completed_successfully' },
    });
  });

  it('runs Mosquitto with the dynamic-security plugin the cloud keeps, initialised before it starts, with TLS for devices', () => {
    expect(compose.services.mosquitto?.depends_on).toEqual({ 'mosquitto-init': { condition: 'service_completed_successfully' } });
    expect(compose.services['mosquitto-init']?.volumes).toContain('mosquitto-data:/mosquitto/data');
    expect(compose.services.mosquitto?.volumes).toContain('mosquitto-data:/mosquitto/data');
    expect(compose.services.cloud?.environment).toMatchObject({ MQTT_DEVICE_ACCOUNTS: 'mosquitto-dynamic-security', MQTT_URL: 'mqtt://mosquitto:1883' });
    const conf = readFileSync(join(import.meta.dirname, 'mosquitto/mosquitto.conf'), 'utf8');
    expect(conf).toMatch(/^plugin_opt_config_file \/mosquitto\/data\/dynamic-security\.json$/m);
    expect(conf).toMatch(/^listener 8883$/m);
    expect(conf).toMatch(/^certfile \/mosquitto\/certs\/server\.crt$/m);
    expect(conf).not.toMatch(/^allow_anonymous true/m);
  });

  it('scrapes the cloud and charts only metrics the cloud exports', () => {
    const prometheus = readFileSync(join(import.meta.dirname, 'prometheus/prometheus.yml'), 'utf8');
    expect(prometheus).toContain('cloud:8080');
    const exported = ['metrics/cloud-metrics.ts', 'labeling/labeling-queue-gauge.ts']
      .map((file) => readFileSync(join(import.meta.dirname, '../apps/cloud/src', file), 'utf8'))
      .join('\n');
    const names = new Set([...exported.matchAll(/name: '(loupe_cloud_\w+)'/g)].map((match) => match[1]));
    const dashboard = readFileSync(join(import.meta.dirname, 'grafana/dashboards/loupe-cloud.json'), 'utf8');
    const charted = [...dashboard.matchAll(/loupe_cloud_\w+/g)].map(([name]) => name.replace(/_(bucket|sum|count)$/, ''));
    expect(charted.length).toBeGreaterThan(10);
    expect(charted.filter((name) => !names.has(name))).toEqual([]);
  });
});
