import { ConfigError } from '@loupe/config';
import { describe, expect, it } from 'vitest';
import { loadCloudConfig } from './cloud-config';

describe('loadCloudConfig', () => {
  it('runs on embedded services when nothing is configured', () => {
    const config = loadCloudConfig({});
    expect(config.database.kind).toBe('embedded');
    expect(config.mqtt.broker).toEqual({ kind: 'embedded', host: '127.0.0.1', port: 1884 });
    expect(config.blobs.kind).toBe('folder');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080 });
  });

  it('keeps every embedded file under the data directory', () => {
    const config = loadCloudConfig({ DATA_DIR: '/var/lib/loupe' });
    expect(config.database).toMatchObject({ directory: '/var/lib/loupe/cloud/postgres' });
    expect(config.blobs).toEqual({ kind: 'folder', directory: '/var/lib/loupe/cloud/blobs' });
  });

  it('uses the real services when their settings are given', () => {
    const config = loadCloudConfig({
      DATABASE_URL: 'postgresql://loupe@db:5432/loupe',
      MQTT_URL: 'mqtts://broker:8883',
      S3_BUCKET: 'loupe-samples',
      S3_ENDPOINT: 'http://minio:9000',
      S3_ACCESS_KEY_ID: 'key',
      S3_SECRET_ACCESS_KEY: 'secret',
    });
    expect(config.database).toMatchObject({ kind: 'postgres', url: 'postgresql://loupe@db:5432/loupe' });
    expect(config.mqtt.broker).toEqual({ kind: 'external', url: 'mqtts://broker:8883' });
    expect(config.blobs).toMatchObject({
      kind: 's3',
      bucket: 'loupe-samples',
      endpoint: 'http://minio:9000',
      credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
    });
  });

  it('names MQTT_URL when it is not a URL', () => {
    expect(() => loadCloudConfig({ MQTT_URL: 'not-a-url' })).toThrow(/MQTT_URL: must be a URL/);
  });

  it('names MQTT_TOPIC_ROOT when it holds a wildcard', () => {
    expect(() => loadCloudConfig({ MQTT_TOPIC_ROOT: 'loupe/#' })).toThrow(/MQTT_TOPIC_ROOT: must be topic levels/);
  });

  it("keeps device accounts in Mosquitto's plugin only with a broker and its admin account", () => {
    const dynamicSecurity = { MQTT_DEVICE_ACCOUNTS: 'mosquitto-dynamic-security' };
    expect(() => loadCloudConfig(dynamicSecurity)).toThrow(/MQTT_DEVICE_ACCOUNTS: mosquitto-dynamic-security needs MQTT_URL/);
    expect(() => loadCloudConfig({ ...dynamicSecurity, MQTT_URL: 'mqtt://mosquitto:1883', MQTT_USERNAME: 'loupe-cloud' })).toThrow(/MQTT_USERNAME and MQTT_PASSWORD/);
    const config = loadCloudConfig({ ...dynamicSecurity, MQTT_URL: 'mqtt://mosquitto:1883', MQTT_USERNAME: 'loupe-cloud', MQTT_PASSWORD: 'secret' });
    expect(config.mqtt.deviceAccounts).toBe('mosquitto-dynamic-security');
    expect(() => loadCloudConfig({ MQTT_DEVICE_ACCOUNTS: 'emqx' })).toThrow(/MQTT_DEVICE_ACCOUNTS/);
  });

  it('names the missing bucket when an S3 endpoint is given', () => {
    expect(() => loadCloudConfig({ S3_ENDPOINT: 'http://minio:9000' })).toThrow(/S3_BUCKET: is required/);
  });

  it('refuses half a credential pair', () => {
    try {
      loadCloudConfig({ S3_BUCKET: 'loupe-samples', S3_ACCESS_KEY_ID: 'key' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues.map((issue) => issue.key)).toEqual(['S3_SECRET_ACCESS_KEY']);
    }
  });
});
