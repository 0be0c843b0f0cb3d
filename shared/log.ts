import pino from 'pino';
import { traceIds } from './telemetry.ts';

/**
 * Structured JSON logs (pino), one object a line on stdout: `level` (a
 * name), `time` (ISO), `msg`, the logger's bindings (`app` is the app-id,
 * `unit` what the process runs, `function` inside an invocation) and, inside
 * a span, `trace_id` and `span_id`, so a line leads to its trace.
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Fields that must never reach a log line, wherever they appear one level down. */
const secrets = ['authorization', 'dapr-api-token', 'apiToken', 'token', 'password'];

export function createLogger(base: LogFields = {}, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    base,
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: traceIds,
    serializers: { error: pino.stdSerializers.err, cause: pino.stdSerializers.err },
    redact: { paths: secrets.flatMap((key) => [`["${key}"]`, `*["${key}"]`]), censor: '[redacted]' },
  };
  return wrap(destination ? pino(options, destination) : pino(options));
}

function wrap(logger: pino.Logger): Logger {
  return {
    info: (msg, fields = {}) => logger.info(fields, msg),
    warn: (msg, fields = {}) => logger.warn(fields, msg),
    error: (msg, fields = {}) => logger.error(fields, msg),
    child: (fields) => wrap(logger.child(fields)),
  };
}

/** A logger that drops everything: for unit tests. */
export const silentLogger: Logger = wrap(pino({ enabled: false }));
