// grpc.health.v1.Health as the probes use it, with a hand-written codec for its two tiny messages:
// loading grpc-health-check at run time parses health.proto through proto-loader and protobufjs'
// descriptor tooling (bench/CAUSES.md). test/health-codec.test.ts checks this codec against
// grpc-health-check's own serializers, byte for byte and field by field.

import type { UnaryMethod } from './call.js';

export interface HealthRequest {
  service: string;
}
export interface HealthResponse {
  /** An enum name; a number we do not know stays a number (as proto-loader's `enums: String` does). */
  status: string;
}

/** HealthCheckResponse.ServingStatus by wire number (grpc/health/v1/health.proto). */
const STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

function varintBytes(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** HealthCheckRequest: `string service = 1`; the empty string is omitted, as proto3 allows. */
export function encodeHealthRequest(request: HealthRequest): Buffer {
  const text = Buffer.from(request.service, 'utf8');
  if (text.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x0a, ...varintBytes(text.length)]), text]);
}

/** Reads protobuf wire format; throws on truncated or malformed input (grpc-js then fails the call). */
class Reader {
  #at = 0;
  constructor(readonly bytes: Buffer) {}

  get done(): boolean {
    return this.#at >= this.bytes.length;
  }

  /** A varint as a JS number of its low 32 bits, signed (int32 / enum semantics); 10 bytes at most. */
  varint(): number {
    let low = 0;
    for (let i = 0; i < 10; i++) {
      if (this.#at >= this.bytes.length) throw new Error('health response: truncated varint');
      const byte = this.bytes[this.#at++] as number;
      if (i < 5) low |= (byte & 0x7f) << (7 * i);
      if ((byte & 0x80) === 0) return low | 0;
    }
    throw new Error('health response: varint longer than 10 bytes');
  }

  skip(count: number): void {
    if (count < 0 || this.#at + count > this.bytes.length)
      throw new Error('health response: truncated field');
    this.#at += count;
  }

  /** Skips one field of the given wire type (the tag already read). */
  skipField(wireType: number, field: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.skip(8);
        return;
      case 2:
        this.skip(this.varint() >>> 0);
        return;
      case 3:
        // A group: fields until its END_GROUP with the same number.
        for (;;) {
          if (this.done) throw new Error('health response: unterminated group');
          const tag = this.varint() >>> 0;
          if ((tag & 7) === 4) {
            if (tag >>> 3 !== field) throw new Error('health response: mismatched end group');
            return;
          }
          this.skipField(tag & 7, tag >>> 3);
        }
      case 5:
        this.skip(4);
        return;
      default:
        throw new Error(`health response: invalid wire type ${wireType}`);
    }
  }
}

/** HealthCheckResponse: `ServingStatus status = 1`; unknown fields are skipped, the last status wins. */
export function decodeHealthResponse(bytes: Buffer): HealthResponse {
  const reader = new Reader(bytes);
  let status = 0;
  while (!reader.done) {
    const tag = reader.varint() >>> 0;
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 0) throw new Error('health response: field number 0');
    if (field === 1 && wireType === 0) status = reader.varint();
    else reader.skipField(wireType, field);
  }
  return { status: STATUS_NAMES[status] ?? String(status) };
}

function method(name: 'Check' | 'Watch'): UnaryMethod<HealthRequest, HealthResponse> {
  return {
    path: `/grpc.health.v1.Health/${name}`,
    requestSerialize: encodeHealthRequest,
    responseDeserialize: decodeHealthResponse,
  };
}

export const HEALTH_CHECK = method('Check');
export const HEALTH_WATCH = method('Watch');
