// Step "reflection": grpc.reflection v1, then v1alpha on UNIMPLEMENTED, asked to list the services
// (what `grpcurl list` shows). Optional for a server, so a failure here is a warning.

import { type ServiceError, status as Status } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { DiagnoseClient } from './grpc-client.js';
import { failed, step, stopwatch } from './step.js';
import type { StepResult } from './types.js';

const PATHS = {
  v1: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
  v1alpha: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
} as const;

// The list_services part of reflection.proto (identical in v1 and v1alpha).
const messages = protobuf.Root.fromJSON({
  nested: {
    Request: { fields: { host: { type: 'string', id: 1 }, list_services: { type: 'string', id: 7 } } },
    Response: {
      fields: {
        list_services_response: { type: 'ListServiceResponse', id: 6 },
        error_response: { type: 'ErrorResponse', id: 7 },
      },
    },
    ListServiceResponse: { fields: { service: { rule: 'repeated', type: 'ServiceResponse', id: 1 } } },
    ServiceResponse: { fields: { name: { type: 'string', id: 1 } } },
    ErrorResponse: {
      fields: { error_code: { type: 'int32', id: 1 }, error_message: { type: 'string', id: 2 } },
    },
  },
});
const Request = messages.lookupType('Request');
const Response = messages.lookupType('Response');

interface ListAnswer {
  list_services_response?: { service?: { name: string }[] };
  error_response?: { error_code: number; error_message: string };
}

/** Most service names kept (a bound for a misbehaving server). */
const MAX_SERVICES = 500;

type Listed = { services: string[] } | { code: number; details: string };

function listWith(c: DiagnoseClient, path: string, timeoutMs: number): Promise<Listed> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Listed) => {
      if (settled) return;
      settled = true;
      call.cancel();
      resolve(result);
    };
    const call = c.client.makeBidiStreamRequest(
      path,
      (value: Record<string, unknown>) => Buffer.from(Request.encode(Request.fromObject(value)).finish()),
      (bytes: Buffer) => Response.toObject(Response.decode(bytes)) as ListAnswer,
      c.metadata(),
      { deadline: Date.now() + timeoutMs },
    );
    call.on('data', (answer: ListAnswer) => {
      if (answer.error_response) {
        finish({ code: answer.error_response.error_code, details: answer.error_response.error_message });
      } else {
        const names = (answer.list_services_response?.service ?? []).map((s) => s.name);
        finish({ services: names.slice(0, MAX_SERVICES) });
      }
    });
    call.on('error', (err: ServiceError) => finish({ code: err.code, details: err.details }));
    call.on('end', () => finish({ code: Status.UNKNOWN, details: 'the stream ended without an answer' }));
    call.write({ list_services: '' });
    call.end();
  });
}

export async function reflectionStep(
  c: DiagnoseClient,
  timeoutMs: number,
): Promise<{ step: StepResult; services?: string[] }> {
  const elapsed = stopwatch();
  let last: Listed = { code: Status.UNIMPLEMENTED, details: '' };
  for (const version of ['v1', 'v1alpha'] as const) {
    last = await listWith(c, PATHS[version], timeoutMs);
    if ('services' in last) {
      const services = [...last.services].sort();
      return {
        step: step(
          'reflection',
          'ok',
          elapsed(),
          `${version}: ${services.length} services: ${services.join(', ')}`,
        ),
        services,
      };
    }
    if (last.code !== Status.UNIMPLEMENTED) break;
  }
  if ('code' in last && last.code === Status.UNIMPLEMENTED) {
    return {
      step: {
        ...step(
          'reflection',
          'warn',
          elapsed(),
          'server reflection is not available (v1, v1alpha: UNIMPLEMENTED)',
        ),
        cause: 'the server does not register the reflection service',
        fix: 'register grpc.reflection (v1) for `grpcurl` and `reflection: true` probes, or give probes their .proto files',
      },
    };
  }
  const { code, details } = last as { code: number; details: string };
  const result = failed('reflection', elapsed(), `${Status[code] ?? code}: ${details}`, 'rpc', {
    code,
    details,
    connected: true,
  });
  return { step: { ...result, status: 'warn', layer: undefined } };
}
