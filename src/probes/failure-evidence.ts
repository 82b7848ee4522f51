// Gathers the evidence for classifying one failed call of a target (the call's status, what its
// channel did, a TLS sniff where that tells causes apart) and hands it to the one classifier.

import { classifyFailure, type FailureEvidence } from '../connection/classify.js';
import { sniffableHostPort, speaksTls } from '../connection/tls-sniff.js';
import type { ConnectionView } from '../connection/watcher.js';
import type { FailureReason } from '../outcome/failure-reasons.js';

/** A sniff result is reused this long, so a failing target is sniffed at most once a minute. */
const SNIFF_CACHE_MS = 60_000;
const SNIFF_TIMEOUT_MS = 500;

export class FailureEvidenceCollector {
  readonly #address: string;
  readonly #plaintext: boolean;
  readonly #connection: ConnectionView;
  #sniff: { at: number; result: Promise<boolean> } | undefined;

  constructor(address: string, plaintext: boolean, connection: ConnectionView) {
    this.#address = address;
    this.#plaintext = plaintext;
    this.#connection = connection;
  }

  get connection(): ConnectionView {
    return this.#connection;
  }

  /** Classifies a call that ended with `code` and `details`. */
  async classify(evidence: FailureEvidence): Promise<FailureReason> {
    const full: FailureEvidence = { connected: this.#connection.state === 'READY', ...evidence };
    // "Failed to connect": the peer closed before HTTP/2 began. A TLS server reading our plaintext
    // preface does exactly that, so ask the address whether it speaks TLS.
    if (this.#plaintext && evidence.details?.includes('Failed to connect')) {
      full.peerSpeaksTls = await this.#speaksTls();
    }
    return classifyFailure(full);
  }

  #speaksTls(): Promise<boolean> {
    const now = performance.now();
    if (this.#sniff && now - this.#sniff.at < SNIFF_CACHE_MS) return this.#sniff.result;
    const hostPort = sniffableHostPort(this.#address);
    const result = hostPort
      ? speaksTls(hostPort.host, hostPort.port, SNIFF_TIMEOUT_MS)
      : Promise.resolve(false);
    this.#sniff = { at: now, result };
    return result;
  }
}
