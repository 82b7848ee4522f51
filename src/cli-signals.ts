// Signal handlers installed the moment the CLI starts, before any slow import or config load: a
// SIGTERM then ends a daemon that has not started yet with exit 0 at once, and an early SIGHUP
// (whose default action would kill the process) is remembered for after start. The daemon takes
// the signals over with handleSignals(); other commands give them back with releaseSignals().

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
type Signal = (typeof SIGNALS)[number];

let handler: ((signal: Signal) => void) | undefined;
let hangupPending = false;

function onSignal(signal: Signal): void {
  if (handler) handler(signal);
  else if (signal === 'SIGHUP') hangupPending = true;
  else process.exit(0); // nothing runs yet: nothing to stop
}

for (const signal of SIGNALS) process.on(signal, onSignal);

/** Routes every signal to `h` from now on; returns whether a SIGHUP arrived before. */
export function handleSignals(h: (signal: Signal) => void): boolean {
  handler = h;
  const pending = hangupPending;
  hangupPending = false;
  return pending;
}

/** Restores the default actions (commands other than run). */
export function releaseSignals(): void {
  for (const signal of SIGNALS) process.off(signal, onSignal);
}
