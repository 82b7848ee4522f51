// Rotates `from_file` secrets without a reload: each secret file is watched like the config file
// (a Kubernetes Secret volume is updated by the same `..data` symlink swap as a ConfigMap), and a
// change re-reads the value into the running Secret, which the next call's metadata picks up.

import type { Logger } from 'pino';
import { ConfigWatcher } from './config-watcher.js';
import type { TargetConfig } from './schema.js';
import { Secret } from './secret.js';

export class SecretFileWatcher {
  readonly #log: Logger;
  /** path → its watcher and the running secrets read from it. */
  #watched = new Map<string, { watcher: ConfigWatcher; secrets: Secret[] }>();

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Watches exactly the secret files of `targets` (called after start and after each reload). */
  update(targets: readonly TargetConfig[]): void {
    const wanted = new Map<string, Secret[]>();
    for (const target of targets) {
      const sources = [target.metadata, ...target.rpcs.map((r) => r.metadata)];
      for (const value of sources.flatMap((m) => Object.values(m))) {
        if (!(value instanceof Secret) || !value.file) continue;
        wanted.set(value.file.path, [...(wanted.get(value.file.path) ?? []), value]);
      }
    }
    for (const [path, entry] of this.#watched) {
      if (!wanted.has(path)) {
        entry.watcher.close();
        this.#watched.delete(path);
      }
    }
    for (const [path, secrets] of wanted) {
      const entry = this.#watched.get(path);
      if (entry) {
        entry.secrets = secrets;
        continue;
      }
      const created = { watcher: new ConfigWatcher(path, () => this.#rotate(path)), secrets };
      this.#watched.set(path, created);
      created.watcher.start();
    }
  }

  #rotate(path: string): void {
    const entry = this.#watched.get(path);
    if (!entry) return;
    const rotated = entry.secrets.filter((s) => s.refresh());
    if (rotated.length > 0) this.#log.info({ source: rotated[0]?.source }, 'secret file rotated');
  }

  close(): void {
    for (const { watcher } of this.#watched.values()) watcher.close();
    this.#watched.clear();
  }
}
