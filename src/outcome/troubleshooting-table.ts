// GENERATED from docs/troubleshooting.md by `npm run docs-table`: edit the markdown, not this file.
// test/troubleshooting-table.test.ts fails when the two differ.

import type { TroubleshootingTables } from './troubleshooting-source.js';

export const TROUBLESHOOTING_TABLES: TroubleshootingTables = {
  failures: [
    {
      reason: 'dns_error',
      meaning: 'the name does not exist, wrong namespace, CoreDNS trouble',
      check: "`kubectl get svc`, the name's namespace suffix, CoreDNS logs; `nslookup` from the pod",
      symptom: '`Name resolution failed for target dns:...`',
    },
    {
      reason: 'connection_refused',
      meaning:
        'nothing listens: pod not ready, wrong port, server crashed; a unix: socket that does not exist',
      check:
        "`kubectl get endpoints`, the container port, the socket path and its volume, the server's logs and restarts",
      symptom: '`connect ECONNREFUSED`, `connect ENOENT` (unix socket)',
    },
    {
      reason: 'connect_timeout',
      meaning:
        'no connection before the deadline: NetworkPolicy drop, firewall, a listener that never speaks HTTP/2 (wrong port behind a TCP LB)',
      check: 'NetworkPolicies, security groups, that the port really serves gRPC',
      symptom: '`Deadline exceeded ... Waiting for LB pick`',
    },
    {
      reason: 'tls_error',
      meaning:
        'TLS on one side only (either way round), wrong CA, expired or misnamed certificate, mTLS client certificate missing or rejected',
      check: '`tls:` block vs the server, `server_name`, `grpc_probe_tls_cert_expiry_timestamp_seconds`',
      symptom:
        'certificate errors, `wrong version number`, `Hostname/IP does not match`, `alert certificate required`, or `Failed to connect` where a TLS handshake tells the cause',
    },
    {
      reason: 'connection_reset',
      meaning: 'a TCP RST: a proxy, LB or conntrack table dropped the flow; server crashed mid-write',
      check:
        'LB idle timeouts, conntrack limits, sidecar proxies (Envoy/Istio) logs; `grpc_probe_disconnects_total`',
      symptom: '`read ECONNRESET`, "connection reset by peer"',
    },
    {
      reason: 'connection_closed',
      meaning:
        'the connection ended under the call: pod killed, LB closed it, a GOAWAY, keepalive declared it dead',
      check: 'the disconnect reason at the same time (`keepalive_timeout`, `goaway_*`), pod restarts',
      symptom:
        '"transport is closing", `Connection dropped`, EOF, `Failed to connect`; any call killed by a GOAWAY, whatever its code (grpc-js may word it as `RST_STREAM with code 1` or `Bandwidth exhausted`)',
    },
    {
      reason: 'stream_reset',
      meaning:
        'the server or a proxy reset the stream: overload (REFUSED_STREAM, ENHANCE_YOUR_CALM), proxy limits, server bug',
      check: 'server concurrency limits (`max_concurrent_streams`), proxy stream limits, server logs',
      symptom: '`stream terminated by RST_STREAM`, `Stream refused by server`, `Bandwidth exhausted`',
    },
    {
      reason: 'deadline_exceeded',
      meaning: 'connected, but the answer was slower than the deadline',
      check:
        "server latency, CPU throttling, `timeout` vs the method's real cost, `grpc_probe_duration_seconds`",
      symptom: '`Deadline exceeded ... remote_addr=...`',
    },
    {
      reason: 'stream_stalled',
      meaning:
        "an LB or proxy idle/stream timeout on the path (Envoy `stream_idle_timeout`, nginx `grpc_read_timeout`, cloud LB idle timeouts) ends or stops forwarding a quiet stream; a proxy buffers the response; the server's send loop is stuck",
      check:
        "whether stalls come at a fixed stream age (`grpc_probe_stream_max_gap_seconds`, `grpc_probe_connection_duration_seconds`); every proxy's idle, read and stream timeouts vs the server's send interval; response buffering on HTTP/1.1 hops; a second target that bypasses the proxy",
      symptom:
        'a stream probe\'s messages stop while the stream stays open; "stream stalls behind an LB/proxy idle timeout or buffering"',
    },
    {
      reason: 'http_error',
      meaning:
        'a non-gRPC HTTP answer: LB error page, ingress without HTTP/2 or gRPC routing, wrong path, rate limit',
      check: "ingress/LB backend protocol (HTTP/2, gRPC), routes, health of the LB's backends",
      symptom: '`Received HTTP status code 502/503/404/429` (no grpc-status)',
    },
    {
      reason: 'protocol_error',
      meaning:
        'the peer is not (quite) a gRPC server: an HTTP/1.1 or non-HTTP peer, a web server on the port, a proxy that strips trailers, a broken server',
      check:
        "that the port serves gRPC; proxies that must pass trailers (HTTP/2 end to end); the server's framing and encoding",
      symptom:
        '`Call ended without gRPC status`, `Protocol error`, `No message received`, `Response message parsing error`, `Received HTTP status code 200`, a non-numeric grpc-status, an HTML or JSON body behind 200, two answers to a unary call, a compressed message without grpc-encoding',
    },
    {
      reason: 'message_too_large',
      meaning: 'the response exceeds the 4 MiB receive limit',
      check: "the method's response size, paging",
      symptom: '`Received message larger than max` (a gRPC answer; a text body is `protocol_error`)',
    },
    {
      reason: 'unimplemented',
      meaning: 'the server lacks the health service or the method; a proto mismatch',
      check: 'registered services (server reflection), deployed version',
      symptom: '`UNIMPLEMENTED`',
    },
    {
      reason: 'not_serving',
      meaning: 'the server says it is not ready, or does not know the service name',
      check: "the server's health status logic, the exact `service` name",
      symptom: 'health `NOT_SERVING` / `SERVICE_UNKNOWN`',
    },
    {
      reason: 'assertion_failed',
      meaning: 'wrong code, response content or latency',
      check: 'the mismatch in `/api/v1/targets`',
      symptom: 'an RPC answered but its expectation failed',
    },
    {
      reason: 'rpc_error',
      meaning: 'the server chose it: auth, bugs, its own dependencies',
      check: "`grpc_probe_handled_total{grpc_code}`, server logs, the probe's metadata",
      symptom:
        'any other status the server sent (`PERMISSION_DENIED`, `INTERNAL`, `UNAVAILABLE "dial tcp ...: ECONNREFUSED"` from a proxy, a `DEADLINE_EXCEEDED` passed on from upstream, ...)',
    },
    {
      reason: 'unknown',
      meaning: 'a failure mode not classified yet',
      check: 'the raw details on the status page or in `/api/v1/targets`; please report it with them',
      symptom: 'an error grpc-pulse could not place in any row above',
    },
  ],
  disconnects: [
    {
      reason: 'goaway_no_error',
      meaning: 'the server drained the connection: rollout, `max_connection_age`',
      check: 'only a high rate: an aggressive max age',
      fault: 'no; a Watch moves to a new connection and counts no failure',
    },
    {
      reason: 'goaway_too_many_pings',
      meaning:
        'keepalive mismatch: our pings are more frequent than the server\'s enforcement allows (ENHANCE_YOUR_CALM "too_many_pings"); logged once per target as a warning',
      check:
        "raise `keepalive.time` above the server's `min_recv_ping_interval` (grpc-go, C-core default 5 min) or relax the server policy",
      fault: 'yes',
    },
    {
      reason: 'goaway_error',
      meaning: 'GOAWAY with an error code (PROTOCOL_ERROR, INTERNAL_ERROR, ...)',
      check: 'server and proxy logs',
      fault: 'yes',
    },
    {
      reason: 'connection_reset',
      meaning: 'TCP RST',
      check: 'LBs and NAT dropping idle flows (keepalive shorter than their idle timeout), conntrack',
      fault: 'yes',
    },
    {
      reason: 'keepalive_timeout',
      meaning:
        'our ping was not answered in `keepalive.timeout`: a frozen link, black-holed by a firewall or LB',
      check: 'LB/NAT idle timeouts, network partitions, an overloaded server',
      fault: 'yes',
    },
    {
      reason: 'connection_closed',
      meaning: 'the peer closed the connection (EOF) without GOAWAY: a crash, a proxy closing',
      check: 'pod restarts, OOM kills, proxy logs',
      fault: 'yes',
    },
    {
      reason: 'idle',
      meaning: 'an idle timeout closed it (GOAWAY "max_idle"/"enter idle")',
      check: 'nothing, unless it hides a shorter LB idle timeout',
      fault: 'no',
    },
    {
      reason: 'shutdown',
      meaning: 'grpc-pulse closed it (target removed, daemon stopping)',
      check: '—',
      fault: 'no',
    },
    {
      reason: 'unknown',
      meaning: 'no evidence (tracers disabled)',
      check: 'do not set `GRPC_NODE_TRACE=-transport`',
      fault: '—',
    },
  ],
};
