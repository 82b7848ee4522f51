// grpc.health.v1.Health as the probes use it: method descriptors taken from grpc-health-check's own
// service definition, so the wire format is the one the reference implementation serves.

import { service as healthService } from 'grpc-health-check';
import type { UnaryMethod } from './call.js';

export interface HealthRequest {
  service: string;
}
export interface HealthResponse {
  /** An enum name (proto-loader was asked for enums as strings); servers may send numbers we don't know. */
  status: string;
}

function method(name: 'Check' | 'Watch'): UnaryMethod<HealthRequest, HealthResponse> {
  const definition = healthService[name];
  if (!definition) throw new Error(`grpc-health-check has no ${name} method`);
  return definition as unknown as UnaryMethod<HealthRequest, HealthResponse>;
}

export const HEALTH_CHECK = method('Check');
export const HEALTH_WATCH = method('Watch');
