// The fixed `status` label enum of the health series: grpc.health.v1 serving statuses, plus UNKNOWN.

/** grpc.health.v1 serving statuses, plus UNKNOWN for "no answer we can trust" (stream down, not yet). */
export const HEALTH_STATUSES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** A status name from the wire; anything unexpected is UNKNOWN rather than a new label value. */
export function toHealthStatus(wire: string): HealthStatus {
  return wire === 'SERVING' || wire === 'NOT_SERVING' || wire === 'SERVICE_UNKNOWN' ? wire : 'UNKNOWN';
}
