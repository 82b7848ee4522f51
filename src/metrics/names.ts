// Every metric name grpc-pulse exports (SPEC "Metrics"). Alert rules and dashboards are built from
// these constants, so renaming a metric breaks the build, not a production alert.

export const METRICS = {
  probeSuccess: 'grpc_probe_success',
  probeAttempts: 'grpc_probe_attempts_total',
  probeFailures: 'grpc_probe_failures_total',
  probeHandled: 'grpc_probe_handled_total',
  probeDuration: 'grpc_probe_duration_seconds',
  probeLastSuccess: 'grpc_probe_last_success_timestamp_seconds',
  healthStatus: 'grpc_probe_health_status',
  healthChanges: 'grpc_probe_health_changes_total',
  healthWatchUp: 'grpc_probe_health_watch_up',
  channelState: 'grpc_probe_channel_state',
  channelTransitions: 'grpc_probe_channel_transitions_total',
  connectAttempts: 'grpc_probe_connect_attempts_total',
  disconnects: 'grpc_probe_disconnects_total',
  connectionDuration: 'grpc_probe_connection_duration_seconds',
  tlsCertExpiry: 'grpc_probe_tls_cert_expiry_timestamp_seconds',
  backends: 'grpc_probe_backends',
  streamMessages: 'grpc_probe_stream_messages_total',
  streamFirstMessage: 'grpc_probe_stream_first_message_seconds',
  streamMaxGap: 'grpc_probe_stream_max_gap_seconds',
  buildInfo: 'grpc_pulse_build_info',
  configReloadSuccessful: 'grpc_pulse_config_last_reload_successful',
  configReloadSuccessTimestamp: 'grpc_pulse_config_last_reload_success_timestamp_seconds',
} as const;

/**
 * Latency buckets from 0.25 ms (a loopback call) to 30 s (a slow dependency near its deadline), so
 * quantiles resolve both ends.
 */
export const DEFAULT_DURATION_BUCKETS = [
  0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/**
 * Connection ages from 1 s to a day, with edges at the idle timeouts connections commonly die at
 * (Azure LB 4 min, AWS NLB 350 s, GCP 10 min), so "every connection dies at 350 s" is one bucket.
 */
export const CONNECTION_DURATION_BUCKETS = [
  1, 5, 10, 30, 60, 120, 240, 300, 350, 400, 600, 900, 1800, 3600, 7200, 86400,
];
