// Metadata keys and values checked at load time exactly as grpc-js and Node's HTTP/2 will check them
// when a call is made (grpc-js metadata.ts `validate`, Node's connection-specific header list), so
// a config that loads can always send its metadata. No message ever contains a value.

/** grpc-js LEGAL_KEY_REGEX without the pseudo-header colon: lowercase, digits, `_`, `.`, `-`. */
const KEY_RE = /^[0-9a-z_.-]+$/;
/** grpc-js LEGAL_NON_BINARY_VALUE_REGEX: printable ASCII, space included. */
const VALUE_RE = /^[ -~]*$/;
/** Standard base64, padded or not, as grpc-js decodes `-bin` values. */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/**
 * Names a call may not carry as custom metadata: HTTP/2 connection-specific headers (Node throws
 * ERR_HTTP2_INVALID_CONNECTION_HEADERS), and those gRPC itself sets for every call.
 */
const RESERVED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'te',
  'host',
  'content-type',
  'user-agent',
]);

/** All metadata of one call, keys and values: grpc-js' default grpc.max_metadata_size is 8 KiB. */
export const MAX_METADATA_BYTES = 8 * 1024;

export function isBinaryKey(key: string): boolean {
  return key.endsWith('-bin');
}

/** Why `key` cannot be sent as metadata, or undefined when it can. */
export function checkMetadataKey(key: string): string | undefined {
  if (!KEY_RE.test(key)) return 'metadata keys are lowercase [0-9a-z_.-] and may not start with "grpc-"';
  if (key.startsWith('grpc-')) return 'metadata keys may not start with "grpc-" (reserved for gRPC)';
  if (RESERVED.has(key)) return `"${key}" is set by gRPC/HTTP2 itself and cannot be sent as metadata`;
  if (key === '-bin') return 'a binary metadata key needs a name before "-bin"';
  return undefined;
}

/**
 * Why a text value cannot be sent under `key`, or undefined when it can. `-bin` values are written
 * in base64 (the wire form gRPC uses); any other value must be printable ASCII.
 */
export function checkMetadataValue(key: string, value: string): string | undefined {
  if (isBinaryKey(key)) {
    return BASE64_RE.test(value)
      ? undefined
      : 'a "-bin" key needs a base64 value (or { from_file: PATH } with the raw bytes)';
  }
  if (VALUE_RE.test(value)) return undefined;
  const at = [...value].findIndex((c) => !VALUE_RE.test(c));
  const c = [...value][at] ?? '';
  const what =
    c === '\n' || c === '\r'
      ? 'a line break'
      : c < ' ' || c === '\x7f'
        ? 'a control character'
        : 'a non-ASCII character';
  return `value has ${what} at character ${at + 1}: metadata values are printable ASCII (use a "-bin" key for binary data)`;
}
