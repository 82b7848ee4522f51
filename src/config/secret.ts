// A secret value read from the environment or a file. It cannot leak by accident: string conversion,
// JSON and util.inspect all print a placeholder; only reveal() gives the value. A secret read from a
// file can be re-read (a rotated Kubernetes Secret volume) without a config reload: refresh().

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';

const REDACTED = '<redacted>';

/** Every secret value ever revealed, so error text can be scrubbed of them (see redact.ts). */
const revealed = new Set<string>();
/** Values shorter than this are not scrubbed from text: "1" would blank out every digit. */
const MIN_REDACTED_LENGTH = 4;
/** Bounded: rotations add values forever; the oldest are the least likely to be echoed still. */
const MAX_REMEMBERED = 1000;

export interface SecretFile {
  /** Absolute path of the file. */
  path: string;
  /** `-bin` metadata: the raw bytes, kept as base64; otherwise UTF-8 with one trailing newline trimmed. */
  binary: boolean;
}

export class Secret {
  #value: string;
  #version = 0;
  /** Where the value came from, safe to print ("env ORDERS_TOKEN", "file /run/token"). */
  readonly source: string;
  /** Set when the value came from a file that refresh() reads again. */
  readonly file: SecretFile | undefined;

  constructor(value: string, source: string, file?: SecretFile) {
    this.#value = value;
    this.source = source;
    this.file = file;
    remember(value);
  }

  /** Reads a secret file (throws the fs error, whose message names the path, never the content). */
  static fromFile(file: SecretFile, source: string): Secret {
    return new Secret(readSecretFile(file), source, file);
  }

  reveal(): string {
    return this.#value;
  }

  /** Bumped each time refresh() finds a new value: a cache of revealed values compares it. */
  get version(): number {
    return this.#version;
  }

  /** A hash of the value, for fingerprints (never the value itself). */
  digest(): string {
    return createHash('sha256').update(this.#value).digest('hex');
  }

  /**
   * Reads the file again; true when the value changed. A file that is unreadable or empty right now
   * (mid-swap) keeps the old value: a rotation never leaves a target without credentials.
   */
  refresh(): boolean {
    if (!this.file) return false;
    let next: string;
    try {
      next = readSecretFile(this.file);
    } catch {
      return false;
    }
    if (next === '' || next === this.#value) return false;
    this.#value = next;
    this.#version += 1;
    remember(next);
    return true;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}

function readSecretFile(file: SecretFile): string {
  const bytes = readFileSync(file.path);
  return file.binary ? bytes.toString('base64') : bytes.toString('utf8').replace(/\r?\n$/, '');
}

function remember(value: string): void {
  // Each line on its own too: a message may quote only the part before a line break.
  for (const part of [value, ...value.split(/\r?\n/)]) {
    if (part.length < MIN_REDACTED_LENGTH) continue;
    revealed.delete(part);
    revealed.add(part);
  }
  for (const oldest of revealed) {
    if (revealed.size <= MAX_REMEMBERED) break;
    revealed.delete(oldest);
  }
}

/** The secret values known to this process, longest first (so a value containing another wins). */
export function knownSecretValues(): string[] {
  return [...revealed].sort((a, b) => b.length - a.length);
}

/** A metadata value: plain text from the config, or a secret. */
export type MetadataValue = string | Secret;

export function revealValue(value: MetadataValue): string {
  return typeof value === 'string' ? value : value.reveal();
}
