// Notices when the config file's content changes. Kubernetes updates a mounted ConfigMap by swapping
// a `..data` symlink in the file's directory, so the directory is watched (not the file, whose inode
// never changes), and a change is acted on only when the bytes read through the link differ.
// A slow poll backs up fs.watch, which can miss events on some filesystems.

import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';

const DEBOUNCE_MS = 200;
const POLL_MS = 10_000;

export class ConfigWatcher {
  readonly #file: string;
  readonly #onChange: () => void;
  readonly #onUnchanged: () => void;
  #digest: string | undefined;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;

  /** `onUnchanged` hears of checks that found the same bytes (the directory changed, the file did not). */
  constructor(file: string, onChange: () => void, onUnchanged: () => void = () => {}) {
    this.#file = file;
    this.#onChange = onChange;
    this.#onUnchanged = onUnchanged;
  }

  /** Starts watching; the content found now is taken as the one in effect. */
  start(): void {
    if (this.#poll) return;
    this.#digest = this.#read()?.digest;
    this.#watcher = watch(dirname(this.#file), { persistent: false }, () => this.#schedule());
    this.#watcher.on('error', () => {});
    this.#poll = setInterval(() => this.#check(false), POLL_MS);
    this.#poll.unref();
  }

  close(): void {
    this.#watcher?.close();
    clearInterval(this.#poll);
    clearTimeout(this.#debounce);
  }

  #schedule(): void {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.#check(true), DEBOUNCE_MS);
    this.#debounce.unref();
  }

  #read(): { digest: string } | undefined {
    try {
      return { digest: createHash('sha256').update(readFileSync(this.#file)).digest('hex') };
    } catch {
      return undefined; // mid-swap or deleted: the reload itself reports a file that stays unreadable
    }
  }

  /** `directoryEvent`: fs.watch saw the directory change (the poll's checks are not reported). */
  #check(directoryEvent: boolean): void {
    const digest = this.#read()?.digest;
    if (digest !== undefined && digest !== this.#digest) {
      this.#digest = digest;
      this.#onChange();
    } else if (directoryEvent) {
      this.#onUnchanged();
    }
  }
}
