// Step "max-connection-age" (with --idle-test): a connection with a Watch call open and no other
// traffic. A GOAWAY NO_ERROR on it is the server's connection age limit (grpc-go MaxConnectionAge,
// grpc.max_connection_age_ms): not a fault, but every long-lived stream is re-opened that often.

import { GOAWAY_NO_ERROR, type SessionEnd } from './h2-session.js';
import { seconds, skipped, step } from './step.js';
import type { Findings, StepResult } from './types.js';

/** `busy`: how the busy connection ended (undefined: still open), 'no_call' or a connect error. */
export function maxConnectionAgeStep(
  busy: SessionEnd | undefined | 'no_call' | string,
  testMs: number,
  ms: number,
): { step: StepResult; findings: Pick<Findings, 'max_connection_age_seconds'> } {
  if (busy === 'no_call') {
    return {
      step: skipped('max-connection-age', 'no long-lived call to hold open (Health/Watch did not answer)'),
      findings: {},
    };
  }
  if (typeof busy === 'string') {
    return {
      step: step('max-connection-age', 'warn', ms, `could not open the busy connection: ${busy}`),
      findings: {},
    };
  }
  if (!busy) {
    return {
      step: step(
        'max-connection-age',
        'ok',
        ms,
        `a busy connection (Watch open) was still open after ${seconds(testMs)}: no age limit shorter than that`,
      ),
      findings: {},
    };
  }
  switch (busy.kind) {
    case 'goaway': {
      const goaway = `GOAWAY code ${busy.code}${busy.data ? ` debug data "${busy.data}"` : ''}`;
      if (busy.code === GOAWAY_NO_ERROR) {
        return {
          step: step(
            'max-connection-age',
            'ok',
            ms,
            `the server drained a busy connection after ${seconds(busy.atMs)} (${goaway}): its max connection age (servers add up to ±10% jitter)`,
          ),
          findings: { max_connection_age_seconds: Math.round(busy.atMs / 100) / 10 },
        };
      }
      return {
        step: {
          ...step(
            'max-connection-age',
            'warn',
            ms,
            `the server ended a busy connection after ${seconds(busy.atMs)} with ${goaway}`,
          ),
          cause: 'a GOAWAY with an error code on a connection with a call open',
          fix: 'the server and proxy logs at that time',
        },
        findings: {},
      };
    }
    case 'fin':
    case 'rst':
      return {
        step: {
          ...step(
            'max-connection-age',
            'warn',
            ms,
            `a busy connection (Watch open, no bytes flowing) was ${busy.kind === 'fin' ? 'closed (FIN)' : 'reset (RST)'} after ${seconds(busy.atMs)} without a GOAWAY`,
          ),
          cause: 'an intermediary that counts bytes, not calls: a quiet stream is idle to it',
          fix: 'keepalive pings below that time keep quiet streams alive too (keepalive.time)',
        },
        findings: {},
      };
    case 'error':
      return {
        step: step('max-connection-age', 'warn', ms, `the busy connection failed: ${busy.message}`),
        findings: {},
      };
  }
}
