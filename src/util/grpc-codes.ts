// gRPC status codes by number, with the two spellings users meet: the canonical UPPER_SNAKE names of the
// gRPC spec (what config files say) and the Go spellings that dashboards expect (SPEC "Metrics", grpc_code).

/** Index = numeric status code. */
export const GRPC_CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** Index = numeric status code; the label values of `grpc_code`. */
export const GRPC_CODE_LABELS = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const;

export type GrpcCodeLabel = (typeof GRPC_CODE_LABELS)[number];

/** The Go spelling for a numeric code; codes outside 0..16 are reported as Unknown, as gRPC itself does. */
export function grpcCodeLabel(code: number): GrpcCodeLabel {
  return GRPC_CODE_LABELS[code] ?? 'Unknown';
}

/** Accepts NOT_FOUND, NotFound or CANCELED/CANCELLED; returns the numeric code or undefined. */
export function parseGrpcCode(name: string): number | undefined {
  const upper = name.toUpperCase() === 'CANCELED' ? 'CANCELLED' : name;
  const byCanonical = GRPC_CODE_NAMES.indexOf(upper as (typeof GRPC_CODE_NAMES)[number]);
  if (byCanonical >= 0) return byCanonical;
  const byLabel = GRPC_CODE_LABELS.indexOf(name as GrpcCodeLabel);
  return byLabel >= 0 ? byLabel : undefined;
}
