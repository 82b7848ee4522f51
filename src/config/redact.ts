// The one redaction pass: every text that may quote a secret (grpc-js echoes metadata values in its
// errors) goes through redact() before it reaches a log line, stderr or an HTTP body.

import { knownSecretValues } from './secret.js';

export const REDACTED = '<redacted>';

/** `text` with every known secret value, in clear or as JSON escapes it, replaced by `<redacted>`. */
export function redact(text: string): string {
  let out = text;
  for (const value of knownSecretValues()) {
    // As written, as JSON escapes it (log lines, /api/v1/targets), as HTML escapes it (status page).
    for (const form of new Set([value, JSON.stringify(value).slice(1, -1), escapeHtml(value)])) {
      if (out.includes(form)) out = out.split(form).join(REDACTED);
    }
  }
  return out;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** An error's message (and stack) made safe to print. */
export function redactError(err: unknown): string {
  return redact(err instanceof Error ? err.message : String(err));
}
