const LEVEL_NAMES: Record<string, string> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO ',
  warn: 'WARN ',
  error: 'ERROR',
  fatal: 'FATAL',
};
const HIDDEN_KEYS = new Set(['level', 'time', 'app', 'component', 'msg', 'pid', 'hostname']);

/**
 * Turns one pino JSON line into `10:41:25 INFO  cloud/mqtt-link  MQTT connected  url=...`
 * for a person at a terminal. Lines that are not JSON pass through unchanged.
 */
export function formatLogLine(line: string, fallbackApp: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${' '.repeat(15)}${fallbackApp}  ${line}`;
  }
  if (typeof entry !== 'object' || entry === null) return line;
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '--:--:--';
  const level = LEVEL_NAMES[String(entry.level)] ?? String(entry.level).toUpperCase();
  const source = [entry.app ?? fallbackApp, entry.component].filter(Boolean).join('/');
  const fields = Object.entries(entry)
    .filter(([key]) => !HIDDEN_KEYS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  const message = typeof entry.msg === 'string' ? entry.msg : JSON.stringify(entry.msg ?? '');
  return `${time} ${level} ${source}  ${message}${fields ? `  ${fields}` : ''}`;
}
