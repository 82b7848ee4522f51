// The one door to the classifier: gathers the evidence for one failed call of a target (the call's
// status and what the client saw of it, what its channel did while it ran, a TLS sniff where that tells
// causes apart) and hands it to classifyFailure. The daemon's probes and `grpc-pulse check` both use it.

import { status as Status } from '@grpc/grpc-js';
import { classifyFailure, type FailureEvidence } from '../connection/classify.js';
import { sniffableHostPort, speaksTls, tlsHandshakeFails } from '../connection/tls-sniff.js';
import type { ConnectionView } from '../connection/watcher.js';
import type { FailureReason } from '../outcome/failure-reasons.js';
import type { TlsSpec } from '../targets/channel.js';

/** A sniff result is reused this long, so a failing target is sniffed at most once a minute. */
const SNIFF_CACHE_MS = 60_000;
/** Generous: a loaded machine must not turn a slow handshake into "no TLS here". */
const SNIFF_TIMEOUT_MS = 1500;

/** Pre-connection failures where the peer went away without saying why: TLS may be the cause. */
const SILENT_CLOSE = ['Failed to connect', 'Connection dropped', 'ECONNRESET', 'Protocol error'];

export class FailureEvidenceCollector {
  readonly #address: string;
  /** The channel's TLS settings; undefined for plaintext; null for TLS whose settings are not known. */
  readonly #tls: TlsSpec | undefined | null;
  readonly #connection: ConnectionView;
  #sniff: { at: number; result: Promise<boolean | undefined> } | undefined;

  /**
   * tls: the channel's TLS settings (PEM contents), undefined for a plaintext channel; the
   * older form, a boolean "plaintext", is still accepted.
   */
  constructor(address: string, tls: TlsSpec | undefined | boolean, connection: ConnectionView) {
    this.#address = address;
    this.#tls = tls === true ? undefined : tls === false ? null : tls;
    this.#connection = connection;
  }

  get connection(): ConnectionView {
    return this.#connection;
  }

  /** Classifies a call that ended with `code` and `details`. */
  async classify(evidence: FailureEvidence): Promise<FailureReason> {
    // grpc-js reports the connection's end to the channel (and so to the watcher) in the same turn as
    // it fails the calls on it, but not always first: let that turn finish before reading it.
    await new Promise((resolve) => setImmediate(resolve));
    const full: FailureEvidence = { connected: this.#connection.state === 'READY', ...evidence };
    const killedBy = this.#killedBy(evidence);
    if (killedBy) full.killedBy = killedBy;
    const details = evidence.details ?? '';
    if (!killedBy && !evidence.call?.headers && SILENT_CLOSE.some((s) => details.includes(s))) {
      const verdict = await this.#sniffTls();
      // A plaintext channel: the peer speaks TLS. A TLS channel: our own handshake fails.
      if (this.#tls === undefined) full.peerSpeaksTls = verdict === true;
      else full.tlsHandshakeFailed = verdict === true;
    }
    return classifyFailure(full);
  }

  /**
   * The connection that carried the call ended while the call ran (between its start and now). Not
   * for deadlines: a call that ran out of time was not killed by what happened after.
   */
  #killedBy(evidence: FailureEvidence): FailureEvidence['killedBy'] {
    const started = evidence.call?.startedAt;
    const last = this.#connection.lastDisconnect;
    if (started === undefined || last === undefined || last.at < started) return undefined;
    if (evidence.code === Status.DEADLINE_EXCEEDED) return undefined;
    return last.reason === 'unknown' ? 'connection_closed' : last.reason;
  }

  #sniffTls(): Promise<boolean | undefined> {
    const now = performance.now();
    if (this.#sniff && now - this.#sniff.at < SNIFF_CACHE_MS) return this.#sniff.result;
    const hostPort = sniffableHostPort(this.#address);
    const tls = this.#tls;
    let result: Promise<boolean | undefined>;
    if (!hostPort) result = Promise.resolve(undefined);
    else if (tls === undefined) result = speaksTls(hostPort.host, hostPort.port, SNIFF_TIMEOUT_MS);
    else if (tls === null) result = Promise.resolve(undefined);
    else {
      const pem = (text: string) => (text === '' ? undefined : Buffer.from(text));
      const ca = pem(tls.caPem);
      const cert = pem(tls.certChainPem);
      const key = pem(tls.privateKeyPem);
      const base = {
        ...(ca ? { ca } : {}),
        servername: tls.serverName || hostPort.host,
        rejectUnauthorized: !tls.insecureSkipVerify,
      };
      const { host, port } = hostPort;
      result = tlsHandshakeFails(
        host,
        port,
        { ...base, ...(cert && key ? { cert, key } : {}) },
        SNIFF_TIMEOUT_MS,
      ).then(async (verdict) => {
        // A server that rejects the client certificate we present may just close (grpc-js's does);
        // if it names "certificate required" when we present none, ours is the one it rejects.
        if (verdict !== undefined || !cert) return verdict;
        return (await tlsHandshakeFails(host, port, base, SNIFF_TIMEOUT_MS)) === true ? true : undefined;
      });
    }
    this.#sniff = { at: now, result };
    return result;
  }
}
