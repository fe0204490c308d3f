import type { z } from 'zod';

/**
 * Why a device's message is refused: bytes that do not decode, content the
 * schema refuses, or a payload naming a device other than its topic's.
 */
export type DeviceMessageFault = 'malformed' | 'invalid' | 'wrong_device';

/** The site and device a message was published under. */
export interface TopicDevice {
  siteId: string;
  deviceId: string;
}

/** One kind of message devices publish (telemetry, reported state, samples), as the reader needs it. */
export interface DeviceMessageKind<Decoded extends { device?: TopicDevice | undefined }, Parsed> {
  /** The proto message's full name, as refusals give it. */
  messageName: string;
  decode: (payload: Uint8Array) => Decoded;
  schema: z.ZodType<Parsed>;
  /** How one schema issue reads in a refusal (default: its message); issues are joined with '; '. */
  describeIssue?: (issue: z.core.$ZodIssue) => string;
  /** The error to throw; `decoded` is the message as far as it could be read. */
  refusal: (fault: DeviceMessageFault, detail: string, decoded: Decoded | undefined) => Error;
}

/**
 * Reads one device message: decodes it, validates it against its schema,
 * runs `check` (a rule beyond the schema, such as a believable capture
 * time), and checks that a device the payload names is the one in the
 * topic. The topic is the authority on who sent it: the broker lets a
 * device publish only under its own site and device (DeviceAcl), while the
 * payload could say anything. Throws the kind's refusal at the first fault.
 */
export function readDeviceMessage<Decoded extends { device?: TopicDevice | undefined }, Parsed>(
  kind: DeviceMessageKind<Decoded, Parsed>,
  topic: TopicDevice,
  payload: Uint8Array,
  check?: (parsed: Parsed) => string | undefined,
): Parsed {
  let decoded: Decoded;
  try {
    decoded = kind.decode(payload);
  } catch (error) {
    throw kind.refusal('malformed', `not a ${kind.messageName} message: ${(error as Error).message}`, undefined);
  }
  const parsed = kind.schema.safeParse(decoded);
  if (!parsed.success) {
    const describe = kind.describeIssue ?? ((issue: z.core.$ZodIssue) => issue.message);
    throw kind.refusal('invalid', parsed.error.issues.map((issue) => describe(issue)).join('; '), decoded);
  }
  const problem = check?.(parsed.data);
  if (problem !== undefined) throw kind.refusal('invalid', problem, decoded);
  const { device } = decoded;
  if (device && (device.siteId !== topic.siteId || device.deviceId !== topic.deviceId)) {
    throw kind.refusal('wrong_device', `payload names device ${device.siteId}/${device.deviceId} but was published on ${topic.siteId}/${topic.deviceId}`, decoded);
  }
  return parsed.data;
}
