/** The cloud's configured broker account (MQTT_USERNAME, MQTT_PASSWORD), or null; the Mosquitto configuration needs it. */
export const BROKER_SERVICE_ACCOUNT = Symbol('BrokerServiceAccount');
/** The broker's own device accounts (BrokerAccounts), or null when the broker checks the database. */
export const BROKER_ACCOUNTS = Symbol('BrokerAccounts');
