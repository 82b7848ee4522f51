// TLS material checked at load time the way grpc-js will use it: every PEM block parses, and the
// key pair and CA go through tls.createSecureContext() as credentials.createSsl() does, so a key
// that does not match its certificate is a config error, not a crash when the target starts.
// Messages name the file and OpenSSL's reason, never the key's content.

import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Why a PEM certificate file cannot be used, or undefined. */
export function checkCertificates(pem: string): string | undefined {
  const blocks = pem.match(PEM_CERT_RE) ?? [];
  if (blocks.length === 0) return 'contains no PEM certificate (-----BEGIN CERTIFICATE-----)';
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return `certificate ${i + 1} does not parse: ${opensslReason(err)}`;
    }
  }
  return undefined;
}

export interface TlsFiles {
  ca_file: string;
  cert_file: string;
  key_file: string;
}

/** Problems keyed by the field they belong to, empty when grpc-js will accept the material. */
export function checkTlsFiles(tls: TlsFiles): { field: keyof TlsFiles; message: string }[] {
  const problems: { field: keyof TlsFiles; message: string }[] = [];
  for (const field of ['ca_file', 'cert_file'] as const) {
    const message = tls[field] === '' ? undefined : checkCertificates(tls[field]);
    if (message) problems.push({ field, message });
  }
  if (problems.length > 0) return problems;
  const pem = (text: string) => (text === '' ? undefined : Buffer.from(text));
  try {
    createSecureContext({ ca: pem(tls.ca_file), cert: pem(tls.cert_file), key: pem(tls.key_file) });
  } catch (err) {
    const reason = opensslReason(err);
    const field = /ca|certificate authority/i.test(reason) && tls.key_file === '' ? 'ca_file' : 'key_file';
    problems.push({ field, message: `rejected by TLS: ${reason}` });
  }
  return problems;
}

/** OpenSSL's reason ("key values mismatch"), without the error code prefix. */
function opensslReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/i, '').trim() || message;
}
