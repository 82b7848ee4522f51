// The `alerts.server:` section: options of the rules grpc-pulse generates for the application's own
// gRPC server metrics (src/alerts/server-rules.ts), in the conventions the application exports.

import { z } from 'zod';
import { selectorProblem } from '../alerts/selector.js';
import { GRPC_CODE_LABELS, parseGrpcCode } from '../util/grpc-codes.js';
import { parseDuration } from './duration.js';

/** The metric conventions of server libraries (their metric names: src/alerts/server-conventions.ts). */
export const SERVER_CONVENTION_NAMES = ['go_grpc_prometheus', 'opentelemetry'] as const;
export type ServerConventionName = (typeof SERVER_CONVENTION_NAMES)[number];

const forDuration = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, { error: 'expected a duration such as "5m"' });

/** A Prometheus label name (also what `group_by` and `pod_label` name). */
const labelName = z
  .string()
  .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { error: 'expected a label name such as "pod"' });

/** A gRPC code by either spelling (Unavailable or UNAVAILABLE), kept in the Go spelling. */
const grpcCode = z.string().transform((name, ctx) => {
  const code = parseGrpcCode(name);
  if (code === undefined) {
    ctx.addIssue({ code: 'custom', message: `unknown gRPC code "${name}" (expected e.g. Unavailable)` });
    return z.NEVER;
  }
  return GRPC_CODE_LABELS[code] as string;
});

/** The seed's "codes that page": the server failed, a caller cannot fix it by changing the request. */
export const DEFAULT_PAGED_CODES = [
  'Unknown',
  'DeadlineExceeded',
  'ResourceExhausted',
  'Internal',
  'Unavailable',
  'DataLoss',
];

/** The seed's "codes for logging, not alerting": the caller's request or rights, not the server. */
export const DEFAULT_LOGGED_CODES = [
  'Canceled',
  'InvalidArgument',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'Unauthenticated',
  'FailedPrecondition',
  'OutOfRange',
];

export const serverAlertOptions = z
  .strictObject({
    /** Off by default: the rules judge the application's metrics, which grpc-pulse does not export. */
    enabled: z.boolean().default(false),
    /** Which metric conventions the application exports; rules for each are generated. */
    conventions: z
      .array(z.enum(SERVER_CONVENTION_NAMES))
      .min(1)
      .default([...SERVER_CONVENTION_NAMES])
      .refine((list) => new Set(list).size === list.length, { error: 'lists a convention twice' }),
    /** Label matchers put into every server expression, e.g. `namespace="shop"`. "" judges every server. */
    selector: z
      .string()
      .default('')
      .superRefine((text, ctx) => {
        const problem = selectorProblem(text);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    /** Labels every server alert is grouped by (one alert per value combination). */
    group_by: z
      .array(labelName)
      .min(1)
      .default(['namespace', 'job', 'grpc_service'])
      .refine((list) => new Set(list).size === list.length, { error: 'lists a label twice' }),
    /** The label that names the pod (the target label Kubernetes service discovery sets). */
    pod_label: labelName.default('pod'),
    /** Codes that count as errors and page. */
    paged_codes: z.array(grpcCode).min(1).default(DEFAULT_PAGED_CODES),
    /** Codes that are logged, not paged; listed here so that a code cannot be in both lists. */
    logged_codes: z.array(grpcCode).default(DEFAULT_LOGGED_CODES),
    error_ratio: z.number().gt(0).lt(1).default(0.05),
    /** Calls per second (over 5m, or the burn-rate's long window) below which nothing is judged. */
    min_calls_per_second: z.number().nonnegative().default(0.1),
    latency_p95_seconds: z.number().positive().default(1),
    /** Share of calls answered UNAVAILABLE (over 5m) that is a spike. */
    unavailable_ratio: z.number().gt(0).lt(1).default(0.01),
    /** Share of calls answered RESOURCE_EXHAUSTED (over 5m): quotas, limits, overload. */
    resource_exhausted_ratio: z.number().gt(0).lt(1).default(0.01),
    /** The busiest pod's call rate over the mean of its group; with N pods it is at most N. */
    load_skew_factor: z.number().gt(1).default(2),
    /** Fewer pods than this in a group: skew is not judged. */
    load_skew_min_pods: z.number().int().min(2).default(3),
    slo_objective: z.number().gt(0).lt(1).default(0.999),
    for: z
      .strictObject({
        error_ratio: forDuration.default('10m'),
        latency: forDuration.default('10m'),
        unavailable_spike: forDuration.default('2m'),
        resource_exhausted: forDuration.default('5m'),
        load_skew: forDuration.default('15m'),
      })
      .prefault({}),
  })
  .superRefine((options, ctx) => {
    const paged = new Set(options.paged_codes);
    options.logged_codes.forEach((code, i) => {
      if (paged.has(code))
        ctx.addIssue({ code: 'custom', message: `${code} is in paged_codes too`, path: ['logged_codes', i] });
    });
    if (paged.has('OK')) {
      ctx.addIssue({ code: 'custom', message: 'OK cannot page', path: ['paged_codes'] });
    }
    if (options.group_by.includes(options.pod_label)) {
      ctx.addIssue({
        code: 'custom',
        message: `${options.pod_label} is the pod label: grouping by it leaves one pod per group`,
        path: ['group_by'],
      });
    }
    // With N pods the busiest takes at most N times the mean: a factor of N or more never fires.
    if (options.load_skew_factor >= options.load_skew_min_pods) {
      ctx.addIssue({
        code: 'custom',
        message: `must be below load_skew_min_pods (${options.load_skew_min_pods}): with N pods the busiest takes at most N times the mean`,
        path: ['load_skew_factor'],
      });
    }
  });

export type ServerAlertOptions = z.output<typeof serverAlertOptions>;
