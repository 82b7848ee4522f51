// `grpc-pulse diagnose ADDRESS`: the troubleshooting guide as one command. Runs the layers in order
// (DNS, TCP to every address, TLS, HTTP/2, health, reflection), stops at the first layer that fails
// (the ones above it cannot work), then the opt-in discovery tests; prints a table or SPEC's JSON.

import { DIAGNOSE_USAGE, type DiagnoseOptions, DiagnoseUsageError, parseDiagnoseArgs } from './args.js';
import { dnsStep } from './dns-step.js';
import type { Endpoint } from './endpoint.js';
import { diagnoseClient } from './grpc-client.js';
import { healthCheckStep, healthListStep, healthWatchStep } from './health-steps.js';
import { http2Step } from './http2-step.js';
import { idleAndAgeSteps } from './idle-test.js';
import { DIAGNOSE_EXIT, exitCode, renderJson, renderTable, toReport } from './output.js';
import { pingTestStep } from './ping-test.js';
import { reflectionStep } from './reflection-step.js';
import { skipped } from './step.js';
import { tcpSteps } from './tcp-step.js';
import { tlsStep } from './tls-step.js';
import type { Findings, StepResult } from './types.js';

export { DIAGNOSE_USAGE };

const LATER = ['tls', 'http2', 'health-check', 'health-watch', 'health-list', 'reflection'];

function skipRest(steps: StepResult[], after: string, names: string[]): void {
  for (const name of names) steps.push(skipped(name, `not run: ${after} failed`));
}

/** Runs every step; returns the steps and findings (exported for tests that want the objects). */
export async function diagnose(
  options: DiagnoseOptions,
): Promise<{ steps: StepResult[]; findings: Findings }> {
  const steps: StepResult[] = [];
  const findings: Findings = {};
  const later = LATER;
  const discovery = ['idle-test', 'max-connection-age', 'ping-test'];

  const dns = await dnsStep(options);
  steps.push(dns.step);
  if (dns.step.status === 'fail') {
    skipRest(steps, 'dns', ['tcp', ...later]);
    return { steps, findings };
  }
  const tcp = await tcpSteps(dns.addresses, options.port, options.connectTimeoutMs);
  steps.push(...tcp);
  const reachable = dns.addresses.find((_a, i) => tcp[i]?.status === 'ok');
  if (!reachable) {
    skipRest(steps, 'tcp', later);
    return { steps, findings };
  }
  // Another address connected, so an HTTP/2 connection will exist: a dead backend is a warning
  // (its cause and fix stay), not the exit code of a target that cannot be reached at all.
  for (const s of tcp) {
    if (s.status === 'fail') {
      s.status = 'warn';
      delete s.layer;
    }
  }
  const endpoint: Endpoint = {
    ip: reachable.ip,
    port: options.port,
    host: options.host,
    ...(reachable.family === 'unix' ? { path: reachable.ip } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
  };
  if (options.tls) {
    const tls = await tlsStep(endpoint, options.connectTimeoutMs);
    steps.push(tls);
    if (tls.status === 'fail') {
      skipRest(steps, 'tls', later.slice(1));
      return { steps, findings };
    }
  } else {
    steps.push(skipped('tls', 'plaintext (no --tls)'));
  }
  const h2 = await http2Step(endpoint, options.connectTimeoutMs);
  steps.push(h2);
  if (h2.status === 'fail') {
    skipRest(steps, 'http2', later.slice(later.indexOf('http2') + 1));
    return { steps, findings };
  }

  const client = diagnoseClient(endpoint, options);
  try {
    const check = await healthCheckStep(client, options.service, options.rpcTimeoutMs);
    steps.push(check);
    if (check.status === 'fail' && check.layer === 'rpc' && check.reason !== 'unimplemented') {
      skipRest(steps, 'health-check', ['health-watch', 'health-list', 'reflection']);
    } else {
      steps.push(await healthWatchStep(client, options.service, options.rpcTimeoutMs));
      steps.push(await healthListStep(client, options.rpcTimeoutMs));
      const reflection = await reflectionStep(client, options.rpcTimeoutMs);
      steps.push(reflection.step);
      if (reflection.services) findings.services = reflection.services;
    }
  } finally {
    client.close();
  }

  // The discovery tests run side by side: the idle test's connections see no pings from the ping test
  // (each HTTP/2 connection is its own).
  const [idle, ping] = await Promise.all([
    options.idleTestMs !== undefined ? idleAndAgeSteps(endpoint, options, options.idleTestMs) : undefined,
    options.pingBudgetMs !== undefined ? pingTestStep(endpoint, options, options.pingBudgetMs) : undefined,
  ]);
  if (idle) {
    steps.push(...idle.steps);
    Object.assign(findings, idle.findings);
  } else {
    steps.push(skipped(discovery[0] as string, 'opt-in: --idle-test DURATION'));
    steps.push(skipped(discovery[1] as string, 'opt-in: --idle-test DURATION'));
  }
  if (ping) {
    steps.push(ping.step);
    Object.assign(findings, ping.findings);
  } else {
    steps.push(skipped(discovery[2] as string, 'opt-in: --ping-test'));
  }
  return { steps, findings };
}

/** The command: parses argv, runs, prints; returns the exit code. */
export async function runDiagnose(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let options: DiagnoseOptions;
  try {
    options = parseDiagnoseArgs(argv);
  } catch (e) {
    if (e instanceof DiagnoseUsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err.write(`error: ${(e as Error).message}\n\n${DIAGNOSE_USAGE}`);
      return DIAGNOSE_EXIT.badArguments;
    }
    throw e;
  }
  const { steps, findings } = await diagnose(options);
  const code = exitCode(steps);
  const report = toReport(options.address, steps, findings);
  out.write(options.json ? renderJson(report) : renderTable(report, code));
  return code;
}
