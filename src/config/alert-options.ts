// The `alerts:` section of the config: options of `grpc-pulse rules` (src/alerts/rules.ts).

import { z } from 'zod';
import { selectorProblem } from '../alerts/selector.js';
import { parseDuration } from './duration.js';
import { serverAlertOptions } from './server-alert-options.js';

/** A `for` duration of an alert: Prometheus syntax, kept as text (0s allowed). */
/** Label matchers pasted into generated expressions: PromQL matchers only (alerts/selector.ts). */
const matchers = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .superRefine((text, ctx) => {
      const problem = selectorProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

const forDuration = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, { error: 'expected a duration such as "5m"' });

/** Options of `grpc-pulse rules`; every threshold and `for` has a default that suits most services. */
export const alertOptions = z.strictObject({
  /** Label matchers put into every expression, e.g. `job="grpc-pulse", namespace="shop"`. */
  selector: matchers('job="grpc-pulse"'),
  /** Where the runbooks live; each alert links `<base>/<AlertName>.md`. */
  runbook_base_url: z.string().default('https://github.com/grpc-pulse/grpc-pulse/blob/main/docs/runbooks'),
  /** Labels added to every alert (team, routing keys). */
  extra_labels: z.record(z.string(), z.string()).default({}),
  /** The `release` label of the PrometheusRule, which kube-prometheus-stack selects on. */
  release_label: z.string().default('kube-prometheus-stack'),
  /** Which probes the error-ratio and error-budget alerts judge: the synthetic RPCs by default. */
  rpc_probe_selector: matchers('probe!~"health.*"'),
  /** grpc_code values (Go spelling) that count as errors. */
  error_codes: z
    .array(z.string())
    .default(['Unknown', 'DeadlineExceeded', 'ResourceExhausted', 'Internal', 'Unavailable', 'DataLoss']),
  error_ratio: z.number().gt(0).lt(1).default(0.05),
  /** Fewer completed calls than this in the window: too little traffic to judge a ratio. */
  min_calls: z.number().int().nonnegative().default(10),
  unavailable_spike: z.number().int().positive().default(5),
  latency_p95_seconds: z.number().positive().default(1),
  connection_resets: z.number().int().positive().default(3),
  slo_objective: z.number().gt(0).lt(1).default(0.999),
  tls_warning_days: z.number().positive().default(14),
  tls_critical_days: z.number().positive().default(3),
  for: z
    .strictObject({
      pulse_down: forDuration.default('5m'),
      probe_stalled: forDuration.default('5m'),
      probe_failing: forDuration.default('5m'),
      health_not_serving: forDuration.default('2m'),
      health_watch_down: forDuration.default('5m'),
      error_ratio: forDuration.default('10m'),
      latency: forDuration.default('10m'),
      connection_resets: forDuration.default('0s'),
      config_reload: forDuration.default('5m'),
      backend_down: forDuration.default('5m'),
    })
    .prefault({}),
  /** Rules for the application's own gRPC server metrics (off unless `enabled: true`). */
  server: serverAlertOptions.prefault({}),
});
