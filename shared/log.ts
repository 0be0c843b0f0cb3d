/** Structured JSON logs, one object a line on stdout (stderr for errors). */
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export function createLogger(base: LogFields = {}, write = defaultWrite): Logger {
  const emit =
    (level: string) =>
    (msg: string, fields: LogFields = {}) =>
      write(
        level,
        JSON.stringify({ level, time: new Date().toISOString(), msg, ...base, ...fields }, errorReplacer),
      );
  return {
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => createLogger({ ...base, ...fields }, write),
  };
}

function defaultWrite(level: string, line: string) {
  (level === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const cause: object = value.cause === undefined ? {} : { cause: errorReplacer('cause', value.cause) };
    return { name: value.name, message: value.message, ...cause };
  }
  return value;
}

/** A logger that drops everything: for unit tests. */
export const silentLogger: Logger = createLogger({}, () => {});
