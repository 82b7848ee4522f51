// Load-time checks of synthetic RPCs described by .proto files: the files load, the method exists and
// is unary, and the request fits the request type. Reported like every config error, at the path of
// the offending key (`targets[0].rpcs[1].request.id`). Reflection-based RPCs are checked at first
// contact instead (src/probes/method-source.ts).

import { checkMessage, resolveMethod } from '../rpc/method.js';
import { loadProtoFiles } from '../rpc/proto-root.js';
import type { Config } from './schema.js';

export interface PathProblem {
  path: (string | number)[];
  message: string;
}

export function checkProtoRpcs(config: Config): PathProblem[] {
  const problems: PathProblem[] = [];
  config.targets.forEach((target, i) => {
    target.rpcs.forEach((rpc, j) => {
      if (!rpc.proto) return;
      const at = (...rest: (string | number)[]) => ['targets', i, 'rpcs', j, ...rest];
      let root: ReturnType<typeof loadProtoFiles>;
      try {
        root = loadProtoFiles(rpc.proto.files, rpc.proto.include);
      } catch (err) {
        problems.push({ path: at('proto', 'files'), message: `cannot load: ${(err as Error).message}` });
        return;
      }
      const method = resolveMethod(root, rpc.method, rpc.stream ? 'server_stream' : 'unary');
      if ('error' in method) {
        problems.push({ path: at('method'), message: method.error });
        return;
      }
      for (const p of checkMessage(method.ok.requestType, rpc.request)) {
        problems.push({ path: at('request', ...p.path), message: p.message });
      }
    });
  });
  return problems;
}
