/** Turns a pino JSON line into one readable line: `12:00:01 INFO  message  key=value ...`. */
const LEVEL_COLOURS: Record<string, string> = {
  trace: '\x1b[90m',
  debug: '\x1b[90m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[35m',
};
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'service']);

function show(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  if (value && typeof value === 'object' && 'message' in value && 'type' in value) {
    return JSON.stringify((value as { message: unknown }).message);
  }
  return JSON.stringify(value);
}

export function formatLogLine(line: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null || !('msg' in entry)) return line;
  const level = String(entry.level ?? 'info');
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
  const context = Object.entries(entry)
    .filter(([key]) => !OMIT.has(key))
    .map(([key, value]) => `${key}=${show(value)}`)
    .join(' ');
  const label = level.toUpperCase().padEnd(5);
  const painted = colour ? `${LEVEL_COLOURS[level] ?? ''}${label}\x1b[0m` : label;
  return `${time} ${painted} ${String(entry.msg)}${context ? `  ${colour ? '\x1b[90m' : ''}${context}${colour ? '\x1b[0m' : ''}` : ''}`;
}
