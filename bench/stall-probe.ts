// Preloaded into a grpc-pulse child by the benches (`node --import`): measures the longest event-loop
// stall while armed. SIGUSR2 arms it; the next SIGUSR2 prints "STALL <ms>" (the longest gap between
// 2 ms timer ticks, less the period) and disarms it, so it costs nothing outside a measured window.

const PERIOD_MS = 2;
let timer: NodeJS.Timeout | undefined;
let last = 0;
let worst = 0;

process.on('SIGUSR2', () => {
  if (timer) {
    clearInterval(timer);
    timer = undefined;
    process.stderr.write(`STALL ${Math.max(0, worst - PERIOD_MS).toFixed(1)}\n`);
    return;
  }
  worst = 0;
  last = performance.now();
  timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, PERIOD_MS);
});
