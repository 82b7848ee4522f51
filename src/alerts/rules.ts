// Pure builders of grpc-pulse's Prometheus rules: options in, rule groups out (the pattern of
// Prometheus' own mixin, documentation/prometheus-mixin/alerts.libsonnet). Metric names come from the
// code's constants, so renaming a metric breaks the build, not a production alert. The selector goes
// into every expression. The application-traffic rules are in server-rules.ts.

import type { AlertOptions } from '../config/schema.js';
import { METRICS } from '../metrics/names.js';
import { FAULT_DISCONNECTS } from '../outcome/disconnect-reasons.js';
import {
  type AlertRule,
  alertBuilder,
  BURN_RATES,
  BURN_WINDOWS,
  type RecordingRule,
  type RuleGroup,
  round,
} from './rule-types.js';
import { buildServerRuleGroups, SERVER_ALERT_NAMES } from './server-rules.js';

export type { AlertRule, RecordingRule, RuleGroup } from './rule-types.js';

/** The probe alerts (SPEC "Alert rules", plus GrpcPulseConfigReloadFailed). */
export const PROBE_ALERT_NAMES = [
  'GrpcPulseDown',
  'GrpcPulseConfigReloadFailed',
  'GrpcProbeStalled',
  'GrpcProbeFailing',
  'GrpcHealthNotServing',
  'GrpcHealthWatchDown',
  'GrpcProbeErrorRateHigh',
  'GrpcProbeUnavailableSpike',
  'GrpcProbeLatencyHigh',
  'GrpcConnectionResets',
  'GrpcKeepaliveMismatch',
  'GrpcProbeErrorBudgetBurn',
  'GrpcTlsCertExpiringSoon',
  'GrpcBackendDown',
  'GrpcStreamStalled',
] as const;
export type ProbeAlertName = (typeof PROBE_ALERT_NAMES)[number];

/** Every alert grpc-pulse can generate: the probe alerts and, with `alerts.server.enabled`, the server ones. */
export const ALERT_NAMES = [...PROBE_ALERT_NAMES, ...SERVER_ALERT_NAMES] as const;

/**
 * The failure reason of a stream probe that got no message within `max_gap` (SPEC "Failure reasons",
 * new). Typed against src/outcome/failure-reasons.ts once the streaming probe adds it there.
 */
const STREAM_STALLED = 'stream_stalled';

/** Disconnects that are faults (outcome/ says which); drains, idle timeouts and our own shutdowns are not. */
const FAULT_DISCONNECT_RE = FAULT_DISCONNECTS.join('|');

export function buildRuleGroups(options: AlertOptions): RuleGroup[] {
  /** `{selector, extra...}`: the selector in every expression, with the rule's own matchers. */
  const sel = (...extra: string[]) => `{${[options.selector, ...extra].filter((m) => m !== '').join(', ')}}`;
  const rpc = options.rpc_probe_selector;
  const errorCodes = `grpc_code=~"${options.error_codes.join('|')}"`;
  const record = (window: string) => `grpc_pulse:probe_errors:ratio_rate${window}`;
  const budget = 1 - options.slo_objective;

  const alert = alertBuilder<ProbeAlertName>({
    runbookBaseUrl: options.runbook_base_url,
    extraLabels: options.extra_labels,
  });

  // Error ratio of completed calls. `errors or 0 * all`: a probe whose calls all succeed has only
  // grpc_code="OK" series, and its ratio is 0, not "no data". A zero denominator gives no series
  // (guarded by `> 0`), not NaN.
  const ratioRules: RecordingRule[] = BURN_WINDOWS.map((window) => ({
    record: record(window),
    expr:
      `sum by (target, probe) (rate(${METRICS.probeHandled}${sel(rpc, errorCodes)}[${window}]) or 0 * rate(${METRICS.probeHandled}${sel(rpc)}[${window}]))\n` +
      `/\n(sum by (target, probe) (rate(${METRICS.probeHandled}${sel(rpc)}[${window}])) > 0)`,
  }));

  const f = options.for;
  const alerts: AlertRule[] = [
    alert(
      'GrpcPulseDown',
      'critical',
      `up${sel()} == 0`,
      f.pulse_down,
      'grpc-pulse cannot be scraped',
      'Prometheus has not scraped the grpc-pulse sidecar at {{ $labels.instance }} for {{ $labels.job }}: its probes are blind.',
    ),
    alert(
      'GrpcPulseConfigReloadFailed',
      'warning',
      `${METRICS.configReloadSuccessful}${sel()} == 0`,
      f.config_reload,
      'grpc-pulse rejected its new config',
      'The last config reload of {{ $labels.instance }} failed; the previous config keeps running. The reason is in its log and in the answer of POST /-/reload.',
    ),
    alert(
      'GrpcProbeStalled',
      'warning',
      `increase(${METRICS.probeAttempts}${sel(rpc)}[15m]) == 0`,
      f.probe_stalled,
      'A grpc-pulse probe stopped running',
      'Probe {{ $labels.probe }} of target {{ $labels.target }} has made no attempt in 15 minutes: its loop is stuck.',
    ),
    alert(
      'GrpcProbeFailing',
      'critical',
      // A fan-out target fails only when every backend does; some failing is GrpcBackendDown.
      `max without (backend) (${METRICS.probeSuccess}${sel()}) == 0`,
      f.probe_failing,
      'gRPC probe {{ $labels.probe }} of {{ $labels.target }} is failing',
      `Probe {{ $labels.probe }} of target {{ $labels.target }} has been failing for ${f.probe_failing}. Its last failure reason is in grpc_probe_failures_total and its details on the grpc-pulse status page.`,
    ),
    alert(
      'GrpcHealthNotServing',
      'critical',
      `${METRICS.healthStatus}${sel('status=~"NOT_SERVING|SERVICE_UNKNOWN"')} == 1`,
      f.health_not_serving,
      'gRPC service {{ $labels.target }}/{{ $labels.health_service }} is {{ $labels.status }}',
      'The health service of target {{ $labels.target }} reports {{ $labels.status }} for service "{{ $labels.health_service }}".',
    ),
    alert(
      'GrpcHealthWatchDown',
      'warning',
      `${METRICS.healthWatchUp}${sel()} == 0`,
      f.health_watch_down,
      'Health Watch stream to {{ $labels.target }} is down',
      'grpc-pulse cannot keep a Health/Watch stream open to target {{ $labels.target }} (service "{{ $labels.health_service }}"); see grpc_probe_failures_total for why.',
    ),
    alert(
      'GrpcProbeErrorRateHigh',
      'warning',
      `(${record('5m')} > ${options.error_ratio})\nand on (target, probe)\n` +
        `(sum by (target, probe) (increase(${METRICS.probeHandled}${sel(rpc)}[10m])) >= ${options.min_calls})`,
      f.error_ratio,
      'gRPC probe {{ $labels.probe }} of {{ $labels.target }} errors on {{ $value | humanizePercentage }} of calls',
      `More than ${options.error_ratio * 100}% of the calls of probe {{ $labels.probe }} to target {{ $labels.target }} end with an error code (${options.error_codes.join(', ')}).`,
    ),
    alert(
      'GrpcProbeUnavailableSpike',
      'warning',
      `sum by (target, probe) (increase(${METRICS.probeHandled}${sel('grpc_code="Unavailable"')}[5m])) >= ${options.unavailable_spike}`,
      '0s',
      'UNAVAILABLE spike on {{ $labels.target }}',
      'Probe {{ $labels.probe }} of target {{ $labels.target }} got {{ $value | humanize }} UNAVAILABLE answers in 5 minutes.',
    ),
    alert(
      'GrpcProbeLatencyHigh',
      'warning',
      `histogram_quantile(0.95, sum by (target, probe, le) (rate(${METRICS.probeDuration}_bucket${sel(rpc)}[5m])))\n> ${options.latency_p95_seconds}`,
      f.latency,
      'gRPC probe {{ $labels.probe }} of {{ $labels.target }} is slow',
      `The 95th percentile latency of probe {{ $labels.probe }} to target {{ $labels.target }} is {{ $value | humanizeDuration }}, over ${options.latency_p95_seconds}s.`,
    ),
    alert(
      'GrpcConnectionResets',
      'warning',
      `sum by (target, reason) (increase(${METRICS.disconnects}${sel(`reason=~"${FAULT_DISCONNECT_RE}"`)}[15m])) >= ${options.connection_resets}`,
      f.connection_resets,
      'Connections to {{ $labels.target }} keep breaking ({{ $labels.reason }})',
      'grpc-pulse lost {{ $value | humanize }} connections to target {{ $labels.target }} with reason {{ $labels.reason }} in 15 minutes. Graceful drains (rollouts) are not counted.',
    ),
    alert(
      'GrpcKeepaliveMismatch',
      'warning',
      `sum by (target) (increase(${METRICS.disconnects}${sel('reason="goaway_too_many_pings"')}[15m])) > 0`,
      '0s',
      'Keepalive mismatch with {{ $labels.target }}',
      'Target {{ $labels.target }} closed connections with GOAWAY ENHANCE_YOUR_CALM "too_many_pings": the client keepalive time is shorter than the server permits.',
    ),
    ...BURN_RATES.map((b) =>
      alert(
        'GrpcProbeErrorBudgetBurn',
        b.severity,
        `${record(b.short)} > (${b.factor} * ${round(budget)})\nand\n${record(b.long)} > (${b.factor} * ${round(budget)})`,
        b.for,
        `gRPC probe {{ $labels.probe }} of {{ $labels.target }} burns its error budget${b.severity === 'critical' ? ' fast' : ''}`,
        `Probe {{ $labels.probe }} of target {{ $labels.target }} burns the ${options.slo_objective * 100}% objective's error budget ${b.factor} times too fast (${b.short} and ${b.long} windows): the monthly budget is gone in about ${b.budgetGoneDays} days.`,
      ),
    ),
    alert(
      'GrpcTlsCertExpiringSoon',
      'warning',
      `${METRICS.tlsCertExpiry}${sel()} - time() < ${options.tls_warning_days} * 86400`,
      '1h',
      'TLS certificate of {{ $labels.target }} expires soon',
      'The certificate that target {{ $labels.target }} presents expires in {{ $value | humanizeDuration }}.',
    ),
    alert(
      'GrpcTlsCertExpiringSoon',
      'critical',
      `${METRICS.tlsCertExpiry}${sel()} - time() < ${options.tls_critical_days} * 86400`,
      '10m',
      'TLS certificate of {{ $labels.target }} is about to expire',
      'The certificate that target {{ $labels.target }} presents expires in {{ $value | humanizeDuration }}.',
    ),
    alert(
      'GrpcBackendDown',
      'warning',
      `(${METRICS.backends}${sel('state="down"')} > 0)\nand ignoring (state)\n(${METRICS.backends}${sel('state="up"')} > 0)`,
      f.backend_down,
      'Some backends of {{ $labels.target }} fail while others serve',
      `{{ $value }} of the addresses that fan-out target {{ $labels.target }} resolves to have failed their probes for ${f.backend_down} while others pass: clients that reach those backends fail. grpc_probe_success{backend=...} names them.`,
    ),
    alert(
      'GrpcStreamStalled',
      'warning',
      `sum by (target, probe) (increase(${METRICS.probeFailures}${sel(`reason="${STREAM_STALLED}"`)}[10m])) > 0`,
      '0s',
      'Stream probe {{ $labels.probe }} of {{ $labels.target }} stalled',
      'The stream of probe {{ $labels.probe }} to target {{ $labels.target }} went silent for longer than its max_gap ({{ $value | humanize }} times in 10 minutes): a proxy or load balancer in the path idles out or buffers the stream.',
    ),
  ];

  return [
    { name: 'grpc-pulse.rules', rules: ratioRules },
    { name: 'grpc-pulse.alerts', rules: alerts },
    ...buildServerRuleGroups(options.server, {
      runbookBaseUrl: options.runbook_base_url,
      extraLabels: options.extra_labels,
    }),
  ];
}
