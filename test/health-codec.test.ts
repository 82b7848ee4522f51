// The hand-written grpc.health.v1 codec (src/probes/health-protocol.ts) against grpc-health-check's
// own serializers (proto-loader over the reference health.proto): same bytes in, same answer out.

import { service as reference } from 'grpc-health-check';
import { describe, expect, it } from 'vitest';
import { toHealthStatus } from '../src/outcome/health-statuses.js';
import {
  decodeHealthResponse,
  encodeHealthRequest,
  HEALTH_CHECK,
  HEALTH_WATCH,
} from '../src/probes/health-protocol.js';

const refCheck = reference.Check as unknown as {
  path: string;
  requestDeserialize(b: Buffer): { service: string };
  responseSerialize(v: unknown): Buffer;
  responseDeserialize(b: Buffer): { status: string | number };
};

/** Protobuf wire pieces for hand-built messages. */
const varint = (n: bigint): number[] => {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
};
const tag = (field: number, wire: number) => varint(BigInt((field << 3) | wire));

describe('health codec', () => {
  it('uses the reference paths', () => {
    expect(HEALTH_CHECK.path).toBe(refCheck.path);
    expect(HEALTH_WATCH.path).toBe((reference.Watch as unknown as { path: string }).path);
  });

  it.each(['', 'a', 'grpc.health.v1.Health', 'ünïcødé.Service', 'x'.repeat(200), 'y'.repeat(20_000)])(
    'encodes a request the reference decodes: %#',
    (service) => {
      expect(refCheck.requestDeserialize(encodeHealthRequest({ service })).service).toBe(service);
    },
  );

  it.each(['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'])(
    'decodes the reference status %s',
    (status) => {
      const bytes = refCheck.responseSerialize({ status });
      expect(decodeHealthResponse(bytes).status).toBe(status);
      expect(decodeHealthResponse(bytes).status).toBe(String(refCheck.responseDeserialize(bytes).status));
    },
  );

  const messages: Record<string, number[]> = {
    empty: [],
    'unknown enum number': [...tag(1, 0), ...varint(7n)],
    'negative enum number': [...tag(1, 0), ...varint(-1n)],
    'status twice, last wins': [...tag(1, 0), 2, ...tag(1, 0), 1],
    'unknown fields of every wire type': [
      ...tag(2, 2),
      3,
      0x61,
      0x62,
      0x63,
      ...tag(3, 1),
      ...new Array(8).fill(0xff),
      ...tag(4, 5),
      1,
      2,
      3,
      4,
      ...tag(5, 0),
      ...varint(300n),
      ...tag(1, 0),
      2,
      ...tag(6, 3),
      ...tag(7, 0),
      1,
      ...tag(6, 4),
    ],
  };
  it.each(Object.entries(messages))('agrees with the reference on %s', (_name, bytes) => {
    const buffer = Buffer.from(bytes);
    const ours = decodeHealthResponse(buffer).status;
    const theirs = String(refCheck.responseDeserialize(buffer).status);
    expect(toHealthStatus(ours)).toBe(toHealthStatus(theirs));
    expect(ours).toBe(theirs);
  });

  const broken: Record<string, number[]> = {
    'truncated varint': [...tag(1, 0), 0x80],
    'truncated length-delimited field': [...tag(2, 2), 5, 0x61],
    'truncated fixed64': [...tag(3, 1), 1, 2, 3],
    'invalid wire type': [...tag(2, 7)],
  };
  it.each(Object.entries(broken))('rejects %s, as the reference does', (_name, bytes) => {
    const buffer = Buffer.from(bytes);
    expect(() => refCheck.responseDeserialize(buffer)).toThrow();
    expect(() => decodeHealthResponse(buffer)).toThrow();
  });
});
