// The one pino root logger: JSON lines on stdout. Modules take a child of it (a child per target loop).

import { type Logger, pino } from 'pino';

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { name: 'grpc-pulse' }, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(options, destination) : pino(options);
}
