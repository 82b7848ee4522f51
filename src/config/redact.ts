// The one redaction pass: every text that may quote a secret (grpc-js echoes metadata values in its
// errors) goes through redact() before it reaches a log line, stderr or an HTTP body.

import { knownSecretValues } from './secret.js';

export const REDACTED = '<redacted>';

/**
 * `text` with every known secret value, as written, as JSON escapes it (log lines, /api/v1/targets)
 * or as HTML escapes it (the status page), replaced by `<redacted>` (escaped itself in HTML).
 */
export function redact(text: string, options: { html?: boolean } = {}): string {
  const placeholder = options.html ? escapeHtml(REDACTED) : REDACTED;
  let out = text;
  for (const value of knownSecretValues()) {
    for (const form of new Set([value, JSON.stringify(value).slice(1, -1), escapeHtml(value)])) {
      if (out.includes(form)) out = out.split(form).join(placeholder);
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
