// protobufjs Roots from the FileDescriptorProtos that server reflection returns. Its own module, loaded
// only by reflection: protobufjs' descriptor extension is a Root of descriptor.proto that a config
// without reflection never needs.

import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';

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
