// Protobuf descriptors as protobufjs Roots, from .proto files (with include directories) or from the
// FileDescriptorProtos that server reflection returns. Field names stay as written in the .proto
// (keepCase), so config requests and response assertions use the names users see in their files.

import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';

/** Loads .proto files; imports are looked up in `includeDirs`, then next to the importing file. */
export function loadProtoFiles(files: readonly string[], includeDirs: readonly string[]): protobuf.Root {
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

/** Builds a Root from serialized FileDescriptorProtos (a file and every file it imports). */
export function rootFromDescriptors(files: readonly Uint8Array[]): protobuf.Root {
  const decoded = files.map((bytes) => descriptor.FileDescriptorProto.decode(bytes));
  const fromDescriptor = (protobuf.Root as unknown as { fromDescriptor(set: unknown): protobuf.Root })
    .fromDescriptor;
  const root = fromDescriptor({ file: decoded });
  root.resolveAll();
  return root;
}

/** The names of the files a FileDescriptorProto imports. */
export function descriptorDependencies(bytes: Uint8Array): { name: string; dependencies: string[] } {
  const file = descriptor.FileDescriptorProto.decode(bytes) as unknown as {
    name?: string;
    dependency?: string[];
  };
  return { name: file.name ?? '', dependencies: file.dependency ?? [] };
}
