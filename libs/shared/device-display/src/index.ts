export { byDeviceOrder, modelLabel } from './device-order';
export { lastSeenAgo } from './last-seen';
