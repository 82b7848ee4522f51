// Rules for the application's own gRPC traffic, from the server metrics it already exports. Recording
// rules translate each convention (server-conventions.ts) into one shape, labelled `convention`; the
// alerts read only that shape, so one alert rule serves every convention.

import type { ServerAlertOptions } from '../config/server-alert-options.js';
import { GRPC_CODE_LABELS, GRPC_CODE_NAMES, parseGrpcCode } from '../util/grpc-codes.js';
import {
  type AlertCommon,
  type AlertRule,
  alertBuilder,
  BURN_RATES,
  BURN_WINDOWS,
  matchers,
  type RecordingRule,
  type RuleGroup,
  round,
} from './rule-types.js';
import { SERVER_CONVENTIONS, type ServerConvention } from './server-conventions.js';

export const SERVER_ALERT_NAMES = [
  'GrpcServerErrorRateHigh',
  'GrpcServerLatencyHigh',
  'GrpcServerUnavailableSpike',
  'GrpcServerResourceExhausted',
  'GrpcServerLoadSkew',
  'GrpcServerErrorBudgetBurn',
] as const;
export type ServerAlertName = (typeof SERVER_ALERT_NAMES)[number];

/** The recorded series every server alert reads; each carries the group labels and `convention`. */
export const SERVER_RECORDS = {
  calls: (window: string) => `grpc_pulse:server_calls:rate${window}`,
  errors: (window: string) => `grpc_pulse:server_errors:ratio_rate${window}`,
  unavailable: 'grpc_pulse:server_unavailable:ratio_rate5m',
  resourceExhausted: 'grpc_pulse:server_resource_exhausted:ratio_rate5m',
  latencyP95: 'grpc_pulse:server_latency:p95_rate5m',
  podCalls: 'grpc_pulse:server_pod_calls:rate5m',
} as const;

/** Every value a code takes in a convention's code label (Go and/or canonical spelling). */
function codeValues(convention: ServerConvention, codes: readonly string[]): string {
  return codes
    .flatMap((name) => {
      const code = parseGrpcCode(name) ?? 2;
      return convention.spellings.map((s) => (s === 'go' ? GRPC_CODE_LABELS[code] : GRPC_CODE_NAMES[code]));
    })
    .join('|');
}

/** The recording rules of one convention. */
function conventionRecords(
  name: string,
  convention: ServerConvention,
  options: ServerAlertOptions,
): RecordingRule[] {
  const by = options.group_by.join(', ');
  const labels = () => ({ convention: name });
  // A66 has no service label: derive it from grpc_method ("pkg.Service/Method") when alerts group by it.
  const deriveService = convention.serviceInMethod && options.group_by.includes('grpc_service');
  const perSeries = (expr: string) =>
    deriveService ? `label_replace(${expr}, "grpc_service", "$1", "grpc_method", "([^/]+)/.+")` : expr;
  const rate = (metric: string, window: string, ...extra: string[]) =>
    `rate(${metric}${matchers(options.selector, ...extra)}[${window}])`;
  const codes = (list: readonly string[]) => `${convention.codeLabel}=~"${codeValues(convention, list)}"`;
  // `x or 0 * all`: a group that served calls but none with these codes gets 0, not "no data".
  // The denominator `> 0` drops groups without calls, so a ratio is never NaN.
  const ratio = (codeMatcher: string, window: string) =>
    `sum by (${by}) (${perSeries(`rate(${convention.calls}${matchers(options.selector, codeMatcher)}[${window}]) or 0 * ${rate(convention.calls, window)}`)})\n` +
    `/\n(sum by (${by}) (${perSeries(rate(convention.calls, window))}) > 0)`;

  return [
    ...BURN_WINDOWS.map((window) => ({
      record: SERVER_RECORDS.calls(window),
      expr: `sum by (${by}) (${perSeries(rate(convention.calls, window))})`,
      labels: labels(),
    })),
    ...BURN_WINDOWS.map((window) => ({
      record: SERVER_RECORDS.errors(window),
      expr: ratio(codes(options.paged_codes), window),
      labels: labels(),
    })),
    { record: SERVER_RECORDS.unavailable, expr: ratio(codes(['Unavailable']), '5m'), labels: labels() },
    {
      record: SERVER_RECORDS.resourceExhausted,
      expr: ratio(codes(['ResourceExhausted']), '5m'),
      labels: labels(),
    },
    {
      record: SERVER_RECORDS.latencyP95,
      expr: `histogram_quantile(0.95, sum by (${by}, le) (${perSeries(rate(convention.latencyBucket, '5m'))}))`,
      labels: labels(),
    },
    {
      record: SERVER_RECORDS.podCalls,
      expr: `sum by (${by}, ${options.pod_label}) (${perSeries(rate(convention.calls, '5m'))})`,
      labels: labels(),
    },
  ];
}

/** The server rule groups: recording rules per convention, then the alerts on their shape. */
export function buildServerRuleGroups(options: ServerAlertOptions, common: AlertCommon): RuleGroup[] {
  if (!options.enabled) return [];
  const groupLabels = [...options.group_by, 'convention'].join(', ');
  const where = options.group_by.map((label) => `{{ $labels.${label} }}`).join('/');
  const pod = options.pod_label;
  const minRate = round(options.min_calls_per_second);
  // The traffic guard reads the short window: a rate over 6h of a series 20 minutes old is diluted.
  const enough = (window = '5m') => `${SERVER_RECORDS.calls(window)} >= ${minRate}`;
  const budget = 1 - options.slo_objective;
  const f = options.for;

  const alert = alertBuilder<ServerAlertName>(common);
  const percent = (ratio: number) => `${round(ratio * 100)}%`;
  const guard = `Judged only at ${minRate} calls/s or more.`;

  const alerts: AlertRule[] = [
    alert(
      'GrpcServerErrorRateHigh',
      'critical',
      `${SERVER_RECORDS.errors('5m')} > ${round(options.error_ratio)}\nand\n${enough()}`,
      f.error_ratio,
      `gRPC server ${where} fails {{ $value | humanizePercentage }} of its calls`,
      `More than ${percent(options.error_ratio)} of the calls served by ${where} end with a code that pages ` +
        `(${options.paged_codes.join(', ')}). Not counted, because they are the caller's: ` +
        `${options.logged_codes.join(', ') || 'none'}. ${guard}`,
    ),
    alert(
      'GrpcServerLatencyHigh',
      'warning',
      `${SERVER_RECORDS.latencyP95} > ${round(options.latency_p95_seconds)}\nand\n${enough()}`,
      f.latency,
      `gRPC server ${where} is slow`,
      `The 95th percentile server-side latency of ${where} is {{ $value | humanizeDuration }}, over ${round(options.latency_p95_seconds)}s. ${guard}`,
    ),
    alert(
      'GrpcServerUnavailableSpike',
      'warning',
      `${SERVER_RECORDS.unavailable} > ${round(options.unavailable_ratio)}\nand\n${enough()}`,
      f.unavailable_spike,
      `UNAVAILABLE spike on gRPC server ${where}`,
      `{{ $value | humanizePercentage }} of the calls served by ${where} in 5 minutes ended UNAVAILABLE (threshold ${percent(options.unavailable_ratio)}): pods restarting or draining, connections refused, or no ready backend behind a proxy. ${guard}`,
    ),
    alert(
      'GrpcServerResourceExhausted',
      'warning',
      `${SERVER_RECORDS.resourceExhausted} > ${round(options.resource_exhausted_ratio)}\nand\n${enough()}`,
      f.resource_exhausted,
      `gRPC server ${where} rejects calls with RESOURCE_EXHAUSTED`,
      `{{ $value | humanizePercentage }} of the calls served by ${where} end RESOURCE_EXHAUSTED (threshold ${percent(options.resource_exhausted_ratio)}): a rate limit or quota, max concurrent streams, a message over the size limit, or memory pressure. ${guard}`,
    ),
    alert(
      'GrpcServerLoadSkew',
      'warning',
      `${SERVER_RECORDS.podCalls}\n/ on (${groupLabels}) group_left\navg by (${groupLabels}) (${SERVER_RECORDS.podCalls})\n> ${round(options.load_skew_factor)}\n` +
        `and on (${groupLabels})\ncount by (${groupLabels}) (${SERVER_RECORDS.podCalls}) >= ${options.load_skew_min_pods}\n` +
        `and on (${groupLabels})\n${enough()}`,
      f.load_skew,
      `Pod {{ $labels.${pod} }} takes {{ $value | humanize }}× its share of ${where}'s calls`,
      `Pod {{ $labels.${pod} }} serves {{ $value | humanize }} times the mean call rate of the pods of ${where} (threshold ${round(options.load_skew_factor)}×, at least ${options.load_skew_min_pods} pods): gRPC keeps one HTTP/2 connection per client and an L4 load balancer pins each connection, so calls stick to the pods that were up when clients connected. ${guard}`,
    ),
    ...BURN_RATES.map((b) =>
      alert(
        'GrpcServerErrorBudgetBurn',
        b.severity,
        `${SERVER_RECORDS.errors(b.short)} > (${b.factor} * ${round(budget)})\nand\n` +
          `${SERVER_RECORDS.errors(b.long)} > (${b.factor} * ${round(budget)})\nand\n${enough(b.short)}`,
        b.for,
        `gRPC server ${where} burns its error budget${b.severity === 'critical' ? ' fast' : ''}`,
        `${where} burns the ${round(options.slo_objective * 100)}% objective's error budget ${b.factor} times too fast (${b.short} and ${b.long} windows): the monthly budget is gone in about ${b.budgetGoneDays} days. ${guard}`,
      ),
    ),
  ];

  return [
    {
      name: 'grpc-pulse.server.rules',
      rules: options.conventions.flatMap((name) =>
        conventionRecords(name, SERVER_CONVENTIONS[name], options),
      ),
    },
    { name: 'grpc-pulse.server.alerts', rules: alerts },
  ];
}
