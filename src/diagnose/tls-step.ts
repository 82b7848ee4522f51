// Step "tls": the handshake as grpc-js would do it, reported like `openssl s_client`: version, ALPN
// (h2, or an LB that downgrades to HTTP/1.1), the presented chain, SAN vs the name used, days to
// expiry. Verification is judged here rather than by aborting the handshake, so a bad certificate is
// still shown.

import { checkServerIdentity, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { classifyFailure } from '../connection/classify.js';
import type { FailureReason } from '../outcome/failure-reasons.js';
import { causeAndFix } from './causes.js';
import { type Endpoint, openSocket, tlsName } from './endpoint.js';
import { failed, step, stopwatch, transportEvidence } from './step.js';
import type { StepResult } from './types.js';

/** A certificate closer than this to expiry is a warning. */
const EXPIRY_WARN_DAYS = 14;
const MAX_CHAIN = 10;

function subject(cert: DetailedPeerCertificate): string {
  return cert.subject?.CN ? `CN=${cert.subject.CN}` : JSON.stringify(cert.subject ?? {});
}

function chainOf(leaf: DetailedPeerCertificate): string {
  const names: string[] = [];
  let cert: DetailedPeerCertificate | undefined = leaf;
  while (cert && names.length < MAX_CHAIN) {
    names.push(subject(cert));
    const issuer: DetailedPeerCertificate | undefined = cert.issuerCertificate;
    if (!issuer || issuer === cert || issuer.fingerprint256 === cert.fingerprint256) break;
    cert = issuer;
  }
  return names.join(' ← ');
}

function handshake(socket: TLSSocket, endpoint: Endpoint, ms: number): StepResult {
  const name = tlsName(endpoint);
  const cert = socket.getPeerCertificate(true);
  // An anonymous or PSK handshake presents no certificate: there is nothing to verify or show.
  if (!cert?.valid_to) {
    return failed(
      'tls',
      ms,
      `the server presented no certificate (${socket.getProtocol()})`,
      'connection',
      'tls_error',
    );
  }
  const alpn = socket.alpnProtocol;
  const insecure = endpoint.tls?.insecure === true;
  const san = cert.subjectaltname ?? 'no SAN';
  const days = (Date.parse(cert.valid_to) - Date.now()) / 86_400_000;
  const facts = `${socket.getProtocol()}, ALPN ${alpn || 'none'}, chain ${chainOf(cert)}, ${san}, expires ${new Date(cert.valid_to).toISOString().slice(0, 10)} (${days.toFixed(1)} d)`;
  const problems: StepResult[] = [];
  const mismatch = checkServerIdentity(name, cert);
  if (mismatch) {
    problems.push({
      ...failed(
        'tls',
        ms,
        `the certificate does not name "${name}" (${san}); ${facts}`,
        'connection',
        'tls_error',
      ),
      cause: `the name used (the host of ADDRESS or --tls-server-name) is not in the certificate's SAN`,
      fix: `connect with a name the certificate carries (tls.server_name / --tls-server-name), or reissue it with "${name}" in subjectAltName`,
    });
  }
  // Node reports a name mismatch as an authorization error too; it is the finding above.
  const authError = socket.authorized ? undefined : socket.authorizationError;
  if (authError && !(mismatch && String(authError).includes('ALTNAME'))) {
    problems.unshift(
      failed('tls', ms, `certificate not trusted (${authError}); ${facts}`, 'connection', 'tls_error'),
    );
  }
  if (insecure && problems.length > 0) {
    return {
      ...step(
        'tls',
        'warn',
        ms,
        `verification is off (--tls-no-verify): ${problems.map((p) => p.detail).join('; ')}`,
      ),
      ...causeAndFix('tls_error'),
    };
  }
  const [first] = problems;
  if (first) return first;
  if (alpn !== 'h2') {
    const downgraded = alpn !== false;
    const result: StepResult = {
      ...(downgraded
        ? failed(
            'tls',
            ms,
            `the server negotiated ALPN "${alpn}", not h2; ${facts}`,
            'connection',
            'protocol_error',
          )
        : step('tls', 'warn', ms, `no ALPN negotiated (gRPC clients such as grpc-go require h2); ${facts}`)),
      cause:
        'a TLS-terminating load balancer or ingress that speaks HTTP/1.1 to clients (or offers no h2 in ALPN): gRPC needs HTTP/2 end to end',
      fix: 'enable HTTP/2 on the listener (ALPN h2; the LB or ingress backend protocol GRPC/HTTP2), or bypass the LB for gRPC',
    };
    return result;
  }
  if (days < EXPIRY_WARN_DAYS) {
    return {
      ...step('tls', 'warn', ms, `the certificate expires in ${days.toFixed(1)} days; ${facts}`),
      cause: 'certificate renewal (cert-manager, ACME) is late or stuck',
      fix: 'renew the certificate; alert on `grpc_probe_tls_cert_expiry_timestamp_seconds`',
    };
  }
  return step('tls', 'ok', ms, facts);
}

/** The classifier's reason for a failed handshake; one it cannot place is still a TLS failure. */
function handshakeFailure(details: string, timeout: boolean): FailureReason {
  const reason = classifyFailure(transportEvidence(details, { timeout, connected: false }));
  return reason === 'unknown' ? 'tls_error' : reason;
}

export async function tlsStep(endpoint: Endpoint, timeoutMs: number): Promise<StepResult> {
  const elapsed = stopwatch();
  // Offer both, as browsers and LBs do: what the server picks shows a downgrade to HTTP/1.1.
  const opened = await openSocket(endpoint, timeoutMs, ['h2', 'http/1.1'], false);
  if ('error' in opened) {
    return failed(
      'tls',
      elapsed(),
      `handshake with ${endpoint.path ?? `${endpoint.ip}:${endpoint.port}`} failed: ${opened.error}`,
      'connection',
      handshakeFailure(opened.error, opened.timeout),
    );
  }
  const socket = opened.socket as TLSSocket;
  try {
    return handshake(socket, endpoint, elapsed());
  } finally {
    socket.destroy();
  }
}
