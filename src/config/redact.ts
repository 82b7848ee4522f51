// The one redaction pass: every text that may quote a secret (grpc-js echoes metadata values in its
// errors) goes through redact() before it reaches a log line, stderr or an HTTP body.

import { knownSecretValues } from './secret.js';

export const REDACTED = '<redacted>';

/** `text` with every known secret value, in clear or as JSON escapes it, replaced by `<redacted>`. */
export function redact(text: string): string {
  let out = text;
  for (const value of knownSecretValues()) {
    if (out.includes(value)) out = out.split(value).join(REDACTED);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
  }
  return out;
}

/** An error's message (and stack) made safe to print. */
export function redactError(err: unknown): string {
  return redact(err instanceof Error ? err.message : String(err));
}
