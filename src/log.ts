// The one pino root logger: JSON lines on stdout. Modules take a child of it (a child per target loop).
// Every line passes the redaction pass last, so no error object logged anywhere can print a secret.

import { type Logger, pino } from 'pino';
import { redact } from './config/redact.js';

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { name: 'grpc-pulse' },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: { streamWrite: (line: string) => redact(line) },
  };
  return destination ? pino(options, destination) : pino(options);
}
