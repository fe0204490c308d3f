import { randomBytes } from 'node:crypto';

/**
 * A name no parallel test will pick: lowercase letters, digits and '-', so it
 * fits database names, S3 buckets and MQTT topic levels alike.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
}
