// Step "http2": a raw HTTP/2 connection to the endpoint: the server's SETTINGS (max concurrent
// streams, window size, max frame size) and the PING round trip. A failure here, after TCP and TLS
// worked, is a peer that does not speak HTTP/2 (an HTTP/1.1 server, a plaintext client on a TLS port).

import { speaksTls } from '../connection/tls-sniff.js';
import type { Endpoint } from './endpoint.js';
import { RawSession } from './h2-session.js';
import { failed, step, stopwatch, transportEvidence } from './step.js';
import type { StepResult } from './types.js';

const PINGS = 3;
/** Fewer concurrent streams than this queue a busy client's calls. */
const LOW_MAX_STREAMS = 10;

export async function http2Step(endpoint: Endpoint, timeoutMs: number): Promise<StepResult> {
  const elapsed = stopwatch();
  const opened = await RawSession.open(endpoint, timeoutMs);
  if ('error' in opened) {
    // A plaintext client meeting a TLS server sees only a closed connection: ask the port directly.
    const peerSpeaksTls =
      !endpoint.tls &&
      endpoint.path === undefined &&
      (await speaksTls(endpoint.ip, endpoint.port, timeoutMs));
    // An EOF before SETTINGS is connection_closed (the classifier reads grpc-js's words for it, which a
    // raw session does not produce); everything else is the classifier's.
    const result = failed(
      'http2',
      elapsed(),
      opened.error,
      'connection',
      opened.closed && !peerSpeaksTls
        ? 'connection_closed'
        : transportEvidence(opened.error, { timeout: opened.timeout, connected: false, peerSpeaksTls }),
    );
    return peerSpeaksTls
      ? {
          ...result,
          detail: `${result.detail} (the port speaks TLS)`,
          fix: 'add --tls (tls: { enabled: true } in the config)',
        }
      : result;
  }
  const session = opened.session;
  try {
    const rtts: number[] = [];
    for (let i = 0; i < PINGS; i++) {
      const rtt = await session.ping(timeoutMs);
      if (rtt !== undefined) rtts.push(rtt);
    }
    const s = session.settings;
    const settings = `SETTINGS max_concurrent_streams=${s.maxConcurrentStreams ?? 'unlimited'} initial_window_size=${s.initialWindowSize} max_frame_size=${s.maxFrameSize} max_header_list_size=${s.maxHeaderListSize ?? 'unlimited'}`;
    if (rtts.length === 0) {
      return failed(
        'http2',
        elapsed(),
        `${settings}; no PING answered within ${timeoutMs} ms`,
        'connection',
        transportEvidence('PING not answered', { timeout: true, connected: true }),
      );
    }
    const detail = `${settings}; PING RTT ${Math.min(...rtts).toFixed(2)} ms (min of ${rtts.length})`;
    if (s.maxConcurrentStreams !== undefined && s.maxConcurrentStreams < LOW_MAX_STREAMS) {
      return {
        ...step('http2', 'warn', elapsed(), detail),
        cause: `the server allows only ${s.maxConcurrentStreams} concurrent streams per connection: further calls queue`,
        fix: "raise the server's max_concurrent_streams, or spread calls over more connections",
      };
    }
    return step('http2', 'ok', elapsed(), detail);
  } finally {
    session.close();
  }
}
