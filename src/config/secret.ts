// A secret value read from the environment or a file. It cannot leak by accident: string conversion,
// JSON and util.inspect all print a placeholder; only reveal() gives the value.

import { inspect } from 'node:util';

const REDACTED = '<redacted>';

export class Secret {
  readonly #value: string;
  /** Where the value came from, safe to print ("env ORDERS_TOKEN", "file /run/token"). */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
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

/** A metadata value: plain text from the config, or a secret. */
export type MetadataValue = string | Secret;

export function revealValue(value: MetadataValue): string {
  return typeof value === 'string' ? value : value.reveal();
}
