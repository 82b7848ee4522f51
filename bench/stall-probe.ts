// Preloaded into a grpc-pulse child by the benches (`node --import`): measures the longest event-loop
// stall while armed. SIGUSR2 arms it; the next SIGUSR2 prints "STALL <gap ms> <busy ms>" and disarms
// it, so it costs nothing outside a measured window. <gap> is the longest time between two 2 ms timer
// ticks less the period; <busy> is the most main-thread CPU time spent between two ticks, which is the
// stall this process caused itself (on a loaded machine, <gap> also counts time the OS ran others).

const PERIOD_MS = 2;
let timer: NodeJS.Timeout | undefined;
let last = 0;
let lastCpu = 0;
let worstGap = 0;
let worstBusy = 0;

const threadCpuMs = () => {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
};

process.on('SIGUSR2', () => {
  if (timer) {
    clearInterval(timer);
    timer = undefined;
    const gap = Math.max(0, worstGap - PERIOD_MS).toFixed(1);
    process.stderr.write(`STALL ${gap} ${worstBusy.toFixed(1)}\n`);
    return;
  }
  worstGap = 0;
  worstBusy = 0;
  last = performance.now();
  lastCpu = threadCpuMs();
  timer = setInterval(() => {
    const now = performance.now();
    const cpu = threadCpuMs();
    worstGap = Math.max(worstGap, now - last);
    worstBusy = Math.max(worstBusy, cpu - lastCpu);
    last = now;
    lastCpu = cpu;
  }, PERIOD_MS);
});
