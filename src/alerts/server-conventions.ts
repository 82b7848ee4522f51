// The metric conventions an application's gRPC server exports, as Prometheus sees them: one table, so
// the rule builder never spells a metric or label name itself (SPEC "Alert rules", application traffic).

import type { ServerConventionName } from '../config/server-alert-options.js';

/** Which spelling a convention uses for status codes in its code label. */
export type CodeSpelling = 'go' | 'canonical';

export interface ServerConvention {
  /** Counter of completed calls, one series per method and status code. */
  readonly calls: string;
  /** Histogram buckets of server-side call latency (seconds). */
  readonly latencyBucket: string;
  /** The label that holds the status code. */
  readonly codeLabel: string;
  /** The spellings that appear as values of `codeLabel`. */
  readonly spellings: readonly CodeSpelling[];
  /** The service name exists only inside the method label, as `pkg.Service/Method` (gRFC A66). */
  readonly serviceInMethod: boolean;
  /** Who exports it (README, runbooks). */
  readonly exporters: string;
}

export const SERVER_CONVENTIONS = {
  // go-grpc-prometheus / go-grpc-middleware providers/prometheus: grpc_code in Go spelling
  // ("Unavailable"). py-grpc-prometheus exports the same names with Python's UPPER_SNAKE values
  // ("UNAVAILABLE"), so both spellings are matched. The latency histogram exists only when the
  // application enables it (EnableHandlingTimeHistogram / enable_handling_time_histogram=True).
  go_grpc_prometheus: {
    calls: 'grpc_server_handled_total',
    latencyBucket: 'grpc_server_handling_seconds_bucket',
    codeLabel: 'grpc_code',
    spellings: ['go', 'canonical'],
    serviceInMethod: false,
    exporters: 'grpc-go with go-grpc-prometheus or go-grpc-middleware; py-grpc-prometheus',
  },
  // gRFC A66 metrics (grpc.server.call.duration, attributes grpc.method and grpc.status) through an
  // OpenTelemetry Prometheus exporter: dots become underscores, the unit becomes a suffix. Status
  // names are canonical ("UNAVAILABLE"); the histogram's _count counts completed calls.
  opentelemetry: {
    calls: 'grpc_server_call_duration_seconds_count',
    latencyBucket: 'grpc_server_call_duration_seconds_bucket',
    codeLabel: 'grpc_status',
    spellings: ['canonical'],
    serviceInMethod: true,
    exporters: 'grpc-java and grpc-go with their OpenTelemetry plugins (gRFC A66)',
  },
} as const satisfies Record<ServerConventionName, ServerConvention>;
