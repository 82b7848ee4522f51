// Protobuf descriptors as protobufjs Roots from .proto files (with include directories); descriptor-root.ts
// builds them from what server reflection returns. Field names stay as written in the .proto
// (keepCase), so config requests and response assertions use the names users see in their files.

import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import protobuf from 'protobufjs';

/**
 * Roots already loaded, by files, include dirs and the files' modification times: a thousand probes of
 * one service share one Root (memory), and a changed .proto is loaded again on reload.
 */
const loaded = new Map<string, protobuf.Root>();
const MAX_CACHED_ROOTS = 256;

function cacheKey(files: readonly string[], includeDirs: readonly string[]): string {
  const stamps = files.map((f) => {
    try {
      return statSync(f).mtimeMs;
    } catch {
      return -1;
    }
  });
  return JSON.stringify([files, includeDirs, stamps]);
}

/** Loads .proto files (or returns the Root loaded before from the same, unchanged files). */
export function loadProtoFiles(files: readonly string[], includeDirs: readonly string[]): protobuf.Root {
  const key = cacheKey(files, includeDirs);
  const cached = loaded.get(key);
  if (cached) return cached;
  const root = loadProtoFilesUncached(files, includeDirs);
  if (loaded.size >= MAX_CACHED_ROOTS) loaded.delete(loaded.keys().next().value as string);
  loaded.set(key, root);
  return root;
}

/** Loads .proto files; imports are looked up in `includeDirs`, then next to the importing file. */
function loadProtoFilesUncached(files: readonly string[], includeDirs: readonly string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (isAbsolute(target)) return target;
    for (const dir of includeDirs) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return origin ? resolve(origin, '..', target) : target;
  };
  root.loadSync([...files], { keepCase: true });
  root.resolveAll();
  return root;
}
