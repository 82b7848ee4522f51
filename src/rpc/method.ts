// One RPC method of a descriptor Root: finding it by `package.Service/Method`, checking that a config
// request fits its request type (so a typo is a config error, not a runtime surprise), encoding the
// request, and turning a response into the JSON form that assertions match against.

import protobuf from 'protobufjs';

export interface MethodDescriptor {
  /** The HTTP/2 path: `/package.Service/Method`. */
  path: string;
  requestType: protobuf.Type;
  responseType: protobuf.Type;
}

export type Resolved<T> = { ok: T } | { error: string };

/** How a method streams: what a probe of it must be (SPEC "Config": `stream:` on an rpc). */
export type CallShape = 'unary' | 'server_stream';

/**
 * Finds a method of the expected shape: a unary one, or a server-streaming one for an rpc with
 * `stream:`. Unknown names, the other shape and client- or bidi-streaming methods are errors that say so.
 */
export function resolveMethod(
  root: protobuf.Root,
  name: string,
  shape: CallShape = 'unary',
): Resolved<MethodDescriptor> {
  const [serviceName = '', methodName = ''] = name.split('/');
  let service: protobuf.Service;
  try {
    service = root.lookupService(serviceName);
  } catch {
    return { error: `service ${serviceName} is not defined` };
  }
  const method = service.methods[methodName];
  if (!method) return { error: `service ${serviceName} has no method ${methodName}` };
  method.resolve();
  if (method.requestStream) {
    const kind = method.responseStream ? 'bidi' : 'client';
    return {
      error: `${name} is a ${kind}-streaming method; only unary and server-streaming methods can be probed`,
    };
  }
  if (method.responseStream && shape === 'unary') {
    return {
      error: `${name} is a server-streaming method; probe it with stream: { messages: N } or { hold: D }`,
    };
  }
  if (!method.responseStream && shape === 'server_stream') {
    return { error: `${name} is a unary method; stream: applies to server-streaming methods only` };
  }
  const requestType = method.resolvedRequestType;
  const responseType = method.resolvedResponseType;
  if (!requestType || !responseType) return { error: `${name} has unresolved message types` };
  return { ok: { path: `/${serviceName}/${methodName}`, requestType, responseType } };
}

export interface RequestProblem {
  /** Path below the request, e.g. ['items', 0, 'id']. */
  path: (string | number)[];
  message: string;
}

const INT32 = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'map' : `${typeof value} ${JSON.stringify(value)}`;
}

/** Checks one scalar, enum or message value against a field's type; returns problems found. */
function checkValue(field: protobuf.Field, value: unknown, path: (string | number)[]): RequestProblem[] {
  const type = field.type;
  const bad = (expected: string) => [{ path, message: `expected ${expected}, got ${describe(value)}` }];
  if (field.resolvedType instanceof protobuf.Type) return checkMessage(field.resolvedType, value, path);
  if (field.resolvedType instanceof protobuf.Enum) {
    const values = field.resolvedType.values;
    if (typeof value === 'string' && value in values) return [];
    if (typeof value === 'number' && Object.values(values).includes(value)) return [];
    return bad(`one of ${Object.keys(values).join(', ')}`);
  }
  if (type === 'string') return typeof value === 'string' ? [] : bad('a string');
  if (type === 'bool') return typeof value === 'boolean' ? [] : bad('true or false');
  if (type === 'bytes') return typeof value === 'string' ? [] : bad('a base64 string');
  if (type === 'double' || type === 'float') return typeof value === 'number' ? [] : bad('a number');
  if (INT32.has(type)) return Number.isInteger(value) ? [] : bad('an integer');
  if (INT64.has(type)) {
    return Number.isInteger(value) || (typeof value === 'string' && /^-?\d+$/.test(value))
      ? []
      : bad('an integer');
  }
  return [];
}

function checkField(field: protobuf.Field, value: unknown, path: (string | number)[]): RequestProblem[] {
  if (field instanceof protobuf.MapField) {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      return [{ path, message: `expected a map, got ${describe(value)}` }];
    return Object.entries(value).flatMap(([k, v]) => checkValue(field, v, [...path, k]));
  }
  if (field.repeated) {
    if (!Array.isArray(value)) return [{ path, message: `expected a list, got ${describe(value)}` }];
    return value.flatMap((v, i) => checkValue(field, v, [...path, i]));
  }
  return checkValue(field, value, path);
}

/** Every way `value` does not fit message `type`: unknown fields and values of the wrong type. */
export function checkMessage(
  type: protobuf.Type,
  value: unknown,
  path: (string | number)[] = [],
): RequestProblem[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [{ path, message: `expected a map for ${type.fullName.slice(1)}, got ${describe(value)}` }];
  }
  const problems: RequestProblem[] = [];
  for (const [key, fieldValue] of Object.entries(value)) {
    const field = type.fields[key] ?? type.fieldsArray.find((f) => f.name === key || camel(f.name) === key);
    if (!field) {
      problems.push({ path: [...path, key], message: `unknown field "${key}" in ${type.fullName.slice(1)}` });
      continue;
    }
    field.resolve();
    problems.push(...checkField(field, fieldValue, [...path, key]));
  }
  return problems;
}

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Encodes a request that passed checkMessage. */
export function encodeRequest(type: protobuf.Type, value: Record<string, unknown>): Buffer {
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

/** The JSON form a response is matched against: enums as names, 64-bit integers and bytes as strings. */
export function responseJson(type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> {
  return type.toObject(type.decode(bytes), {
    longs: String,
    enums: String,
    bytes: String,
    defaults: true,
  }) as Record<string, unknown>;
}
