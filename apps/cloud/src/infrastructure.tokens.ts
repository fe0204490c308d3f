/**
 * Injection tokens for the connections the composition root opens (see
 * cloud-runtime.ts). Features receive them; they never open their own.
 */
export const DATABASE = Symbol('Database');
export const MQTT_LINK = Symbol('MqttLink');
export const BLOB_STORE = Symbol('BlobStore');
export const CLOUD_METRICS = Symbol('CloudMetrics');
export const LOGGER = Symbol('Logger');
export const TOPICS = Symbol('DeviceTopics');
/** The shared subscription every consumer joins, so replicas split the devices' messages: a fact of the broker connection, beside TOPICS. */
export const MQTT_SHARE_GROUP = Symbol('MqttShareGroup');
/** The labeling queues' lease time, apart from CLOUD_CONFIG so the queues (and the claim benchmark) are built without a whole configuration. */
export const LABELING_SETTINGS = Symbol('LabelingSettings');
export const INGEST_LINKS = Symbol('IngestLinks');
export const REGISTRY_KEYS = Symbol('RegistryKeys');
/** A function returning the URL devices reach this cloud at (known once HTTP listens). */
export const PUBLIC_URL = Symbol('PublicUrl');
/** The validated CloudConfig, read once at start; features take the settings they use from it. */
export const CLOUD_CONFIG = Symbol('CloudConfig');
