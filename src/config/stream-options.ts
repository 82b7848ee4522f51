// The `stream:` block of an rpc (SPEC "Config"): how a server-streaming method is probed. Either
// `messages: N` (one call per interval that must deliver N messages, then the expected status) or
// `hold: D` (one stream kept open for D, then re-opened), with optional `first_message_within` and
// `max_gap`; a gap longer than max_gap is the failure `stream_stalled`.

import { z } from 'zod';
import { custom } from './cross-field-checks.js';

/** Built from schema.ts's duration type, so that durations parse and report the same everywhere. */
export function streamOptions(duration: z.ZodType<number, string>) {
  return z
    .strictObject({
      /** Messages one call must deliver before the expected status. */
      messages: z.number().int().min(1).max(10_000).optional(),
      /** How long one stream is kept open before it is re-opened. */
      hold: duration.optional(),
      /** Deadline of the first message (default: the rpc's timeout). */
      first_message_within: duration.optional(),
      /** The longest silence between two messages that is not a stall (held streams must set it). */
      max_gap: duration.optional(),
    })
    .superRefine((value, ctx) => {
      if ((value.messages === undefined) === (value.hold === undefined)) {
        custom(ctx, 'needs exactly one of messages: N or hold: DURATION');
      } else if (value.hold !== undefined && value.max_gap === undefined) {
        custom(ctx, 'hold needs max_gap: without it a stream that stops sending is never noticed', [
          'max_gap',
        ]);
      }
    });
}
