// Turns on the grpc-js tracers that carry evidence: `transport` (GOAWAY codes and debug data, socket
// errors), `keepalive` (ping timeouts) and `subchannel_call` (whether a status came from the server,
// see status-provenance.ts). grpc-js reads GRPC_NODE_TRACE once, when it loads,
// so this module must be imported before anything that imports @grpc/grpc-js (cli.ts does it first).

export const EVIDENCE_TRACERS = ['transport', 'keepalive', 'subchannel_call'];

const current = process.env.GRPC_NODE_TRACE ?? process.env.GRPC_TRACE ?? '';
const named = new Set(current.split(',').filter(Boolean));
// Respect a user who disabled a tracer on purpose ("-transport").
const wanted = EVIDENCE_TRACERS.filter((t) => !named.has(t) && !named.has(`-${t}`) && !named.has('all'));
if (wanted.length > 0) process.env.GRPC_NODE_TRACE = [...named, ...wanted].join(',');
