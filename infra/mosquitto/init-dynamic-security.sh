#!/bin/sh
# Creates Mosquitto's dynamic-security data with the cloud's account as its
# admin, once: an existing file, with every device account in it, is left
# alone. Run by the compose stack's mosquitto-init service before Mosquitto
# starts, and by the ACL matrix test. Needs MQTT_USERNAME and MQTT_PASSWORD.
set -eu
# The file holds password hashes: readable by Mosquitto alone.
umask 077
file=${DYNAMIC_SECURITY_FILE:-/mosquitto/data/dynamic-security.json}
: "${MQTT_USERNAME:?set MQTT_USERNAME, the cloud's broker account}"
: "${MQTT_PASSWORD:?set MQTT_PASSWORD, its password}"
if [ -s "$file" ]; then
  echo "dynamic security: keeping $file"
  exit 0
fi
mosquitto_ctrl dynsec init "$file" "$MQTT_USERNAME" "$MQTT_PASSWORD"
echo "dynamic security: created $file with admin $MQTT_USERNAME"
