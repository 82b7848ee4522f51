// Likely cause and fix for each failure reason, as `diagnose` prints them under a failed step. The
// words are docs/troubleshooting.md's "Probe failures" table (its "likely cause" and "what to check"
// cells), so the docs and this command say the same thing.

import type { FailureReason } from '../outcome/failure-reasons.js';

export interface CauseAndFix {
  cause: string;
  fix: string;
}

const TABLE: Record<FailureReason, CauseAndFix> = {
  dns_error: {
    cause: 'the name does not exist, wrong namespace, CoreDNS trouble',
    fix: "`kubectl get svc`, the name's namespace suffix, CoreDNS logs; `nslookup` from the pod",
  },
  connection_refused: {
    cause: 'nothing listens: pod not ready, wrong port, server crashed',
    fix: "`kubectl get endpoints`, the container port, the server's logs and restarts",
  },
  connect_timeout: {
    cause:
      'no connection before the deadline: NetworkPolicy drop, firewall, a listener that never speaks HTTP/2 (wrong port behind a TCP LB)',
    fix: 'NetworkPolicies, security groups, that the port really serves gRPC',
  },
  tls_error: {
    cause: 'TLS on one side only, wrong CA, expired or misnamed certificate, mTLS client certificate missing',
    fix: '`tls:` block vs the server, `server_name`, `grpc_probe_tls_cert_expiry_timestamp_seconds`',
  },
  connection_reset: {
    cause: 'a TCP RST: a proxy, LB or conntrack table dropped the flow; server crashed mid-write',
    fix: 'LB idle timeouts, conntrack limits, sidecar proxies (Envoy/Istio) logs; `grpc_probe_disconnects_total`',
  },
  connection_closed: {
    cause: 'the connection ended under the call (FIN): pod killed, LB closed it, keepalive declared it dead',
    fix: 'the disconnect reason at the same time (`keepalive_timeout`, `goaway_*`), pod restarts',
  },
  stream_reset: {
    cause:
      'the server or a proxy reset the stream: overload (REFUSED_STREAM, ENHANCE_YOUR_CALM), proxy limits, server bug',
    fix: 'server concurrency limits (`max_concurrent_streams`), proxy stream limits, server logs',
  },
  deadline_exceeded: {
    cause: 'connected, but the answer was slower than the deadline',
    fix: "server latency, CPU throttling, `timeout` vs the method's real cost, `grpc_probe_duration_seconds`",
  },
  http_error: {
    cause: 'a non-gRPC HTTP answer: LB error page, ingress without HTTP/2 or gRPC routing, wrong path',
    fix: "ingress/LB backend protocol (HTTP/2, gRPC), routes, health of the LB's backends",
  },
  protocol_error: {
    cause: 'the peer is not a gRPC server: an HTTP/1.1 server, a proxy that strips trailers',
    fix: 'that the port serves gRPC; proxies that must pass trailers (HTTP/2 end to end)',
  },
  message_too_large: {
    cause: 'the response exceeds the 4 MiB receive limit',
    fix: "the method's response size, paging",
  },
  unimplemented: {
    cause: 'the server lacks the health service or the method; a proto mismatch',
    fix: 'registered services (server reflection), deployed version',
  },
  not_serving: {
    cause: 'the server says it is not ready, or does not know the service name',
    fix: "the server's health status logic, the exact `service` name",
  },
  assertion_failed: {
    cause: 'wrong code, response content or latency',
    fix: 'the mismatch in `/api/v1/targets`',
  },
  rpc_error: {
    cause: 'the server chose it: auth, bugs, dependencies',
    fix: "`grpc_probe_handled_total{grpc_code}`, server logs, the probe's metadata",
  },
  unknown: { cause: 'no rule explains the evidence', fix: 'the detail above, the server and proxy logs' },
};

export function causeAndFix(reason: FailureReason): CauseAndFix {
  return TABLE[reason];
}
