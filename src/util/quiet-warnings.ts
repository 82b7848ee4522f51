// Keeps one Node warning off stderr: DEP0123 ("Setting the TLS ServerName to an IP address is not
// permitted by RFC 6066"), which grpc-js triggers on every TLS connection to an IP address target (it
// passes the host as servername). The certificate is still verified against the IP; nothing is lost.
// Every other warning is emitted as before.

const original = process.emitWarning.bind(process);

function code(args: unknown[]): string | undefined {
  const [first, second] = args;
  if (typeof first === 'object' && first !== null) return (first as { code?: string }).code;
  if (typeof second === 'string') return second;
  return undefined;
}

process.emitWarning = ((warning: string | Error, ...args: unknown[]) => {
  const named = typeof warning === 'object' ? (warning as { code?: string }).code : code(args);
  if (named === 'DEP0123') return;
  (original as (w: string | Error, ...a: unknown[]) => void)(warning, ...args);
}) as typeof process.emitWarning;
