// The generated alert rules: the checked-in alerts/ is exactly what `grpc-pulse rules` prints, promtool
// accepts them, the promtool unit tests pass, and every alert's tests fail when its expression is
// broken. Also runbooks, the Grafana dashboard, and `promtool check metrics` on a live /metrics.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ALERT_NAMES, type AlertRule, buildRuleGroups } from '../src/alerts/rules.js';
import { parseConfigText } from '../src/config/load.js';
import { METRICS } from '../src/metrics/names.js';
import { runCli } from './harness/cli-process.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { needs } from './harness/needs.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { hasCommand, runTool } from './harness/tools.js';

const RULES = 'alerts/grpc-pulse.rules.yaml';
const PROMETHEUS_RULE = 'alerts/grpc-pulse.prometheusrule.yaml';
const TESTS = 'alerts/tests/grpc-pulse.test.yaml';
const promtool = hasCommand('promtool');

const tmp = () => mkdtempSync(join(tmpdir(), 'grpc-pulse-alerts-'));

interface RuleFile {
  groups: { name: string; rules: (AlertRule & { record?: string })[] }[];
}

describe('generated rules', () => {
  it('alerts/ is exactly what `grpc-pulse rules` generates for the default options', async () => {
    const out = tmp();
    const result = await runCli(['rules', '--config', 'config/demo.yaml', '--out', out]);
    expect(result.code).toBe(0);
    for (const file of [RULES, PROMETHEUS_RULE]) {
      const name = file.split('/').at(-1) as string;
      expect(readFileSync(join(out, name), 'utf8'), `${file} is stale: run npm run rules`).toBe(
        readFileSync(file, 'utf8'),
      );
    }
  });

  it('prints one format to stdout and rejects an unknown one', async () => {
    const printed = await runCli(['rules', '--config', 'config/demo.yaml', '--format', 'prometheusrule']);
    expect(printed.stdout).toBe(readFileSync(PROMETHEUS_RULE, 'utf8'));
    const bad = await runCli(['rules', '--config', 'config/demo.yaml', '--format', 'jsonnet']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown --format "jsonnet"');
  });

  it('has every alert, each with severity, summary, description and a runbook that exists', () => {
    const file = parse(readFileSync(RULES, 'utf8')) as RuleFile;
    const alerts = file.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
    expect([...new Set(alerts.map((a) => a.alert))].sort()).toEqual([...ALERT_NAMES].sort());
    for (const rule of alerts) {
      expect(['critical', 'warning']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).not.toBe('');
      expect(rule.annotations.description).not.toBe('');
      expect(rule.annotations.runbook_url.endsWith(`/${rule.alert}.md`)).toBe(true);
      expect(existsSync(`docs/runbooks/${rule.alert}.md`), `runbook of ${rule.alert}`).toBe(true);
      // The selector is in the expression, or in the recording rules it reads.
      expect(rule.expr.includes('job="grpc-pulse"') || rule.expr.includes('grpc_pulse:probe_errors:')).toBe(
        true,
      );
    }
    const records = file.groups.flatMap((g) => g.rules).filter((r) => r.record !== undefined);
    for (const rule of records) expect(rule.expr).toContain('job="grpc-pulse"');
  });

  it('threads the selector and extra labels into every rule', () => {
    const config = parseConfigText(
      'demo: { enabled: true }\nalerts:\n  selector: \'namespace="shop", job="sidecars"\'\n  extra_labels: { team: payments }\n  error_ratio: 0.2\n',
      'alerts.yaml',
      { baseDir: '.', env: {} },
    );
    const rules = buildRuleGroups(config.alerts).flatMap((g) => g.rules);
    for (const rule of rules) {
      const direct = rule.expr.includes('namespace="shop", job="sidecars"');
      expect(direct || rule.expr.includes('grpc_pulse:probe_errors:'), rule.expr).toBe(true);
    }
    for (const rule of rules.filter((r): r is AlertRule => 'alert' in r))
      expect(rule.labels.team).toBe('payments');
    const ratio = rules.find((r) => 'alert' in r && r.alert === 'GrpcProbeErrorRateHigh');
    expect(ratio?.expr).toContain('> 0.2');
  });
});

describe('promtool', () => {
  it('check rules is clean for both formats', (context) => {
    needs(context, promtool, 'promtool (Debian prometheus)');
    const dir = tmp();
    const operator = parse(readFileSync(PROMETHEUS_RULE, 'utf8')) as { spec: unknown };
    writeFileSync(join(dir, 'from-prometheusrule.yaml'), stringify(operator.spec));
    for (const file of [RULES, join(dir, 'from-prometheusrule.yaml')]) {
      const result = runTool('promtool', ['check', 'rules', file]);
      expect(result.output).toContain('SUCCESS');
      expect(result.status, result.output).toBe(0);
    }
  });

  it('unit tests pass', (context) => {
    needs(context, promtool, 'promtool (Debian prometheus)');
    const result = runTool('promtool', ['test', 'rules', TESTS]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  it('every alert has a unit test that fails when its expression is broken', (context) => {
    needs(context, promtool, 'promtool (Debian prometheus)');
    const tests = parse(readFileSync(TESTS, 'utf8')) as {
      tests: { alert_rule_test: { alertname: string }[] }[];
    };
    const tested = new Set(tests.tests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname)));
    expect([...tested].sort()).toEqual([...ALERT_NAMES].sort());

    const rules = parse(readFileSync(RULES, 'utf8')) as RuleFile;
    for (const name of ALERT_NAMES) {
      const dir = tmp();
      mkdirSync(join(dir, 'tests'));
      // The mutant never fires: a test that only checks "no alert" would still pass.
      const mutant: RuleFile = structuredClone(rules);
      for (const group of mutant.groups) {
        for (const rule of group.rules) if (rule.alert === name) rule.expr = 'vector(1) == 0';
      }
      writeFileSync(join(dir, 'grpc-pulse.rules.yaml'), stringify(mutant));
      writeFileSync(join(dir, 'tests', 'test.yaml'), readFileSync(TESTS, 'utf8'));
      const result = runTool('promtool', ['test', 'rules', join(dir, 'tests', 'test.yaml')]);
      expect(result.status, `the tests of ${name} did not notice its expression was broken`).not.toBe(0);
      expect(result.output).toContain(`alertname: ${name}`);
    }
  });
});

describe('dashboard', () => {
  const dashboard = JSON.parse(readFileSync('deploy/grafana/grpc-pulse-dashboard.json', 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

  it('uses only metrics grpc-pulse exports', () => {
    const exported = new Set<string>(Object.values(METRICS));
    for (const name of Object.values(METRICS))
      for (const suffix of ['_bucket', '_sum', '_count']) exported.add(name + suffix);
    for (const expr of exprs) {
      for (const [name] of expr.matchAll(/\b((?:grpc_probe|grpc_pulse|process|nodejs)_[a-z_]+)\b/g)) {
        const known =
          exported.has(name) ||
          name === 'process_resident_memory_bytes' ||
          name === 'process_cpu_seconds_total';
        expect(known, `${name} in "${expr}"`).toBe(true);
      }
    }
    const used = exprs.join('\n');
    for (const name of [
      METRICS.healthStatus,
      METRICS.channelState,
      METRICS.probeSuccess,
      METRICS.probeHandled,
      METRICS.probeDuration,
      METRICS.probeFailures,
      METRICS.disconnects,
    ]) {
      expect(used).toContain(name);
    }
  });

  it('every query parses (promtool check rules on the queries as recording rules)', (context) => {
    needs(context, promtool, 'promtool (Debian prometheus)');
    const dir = tmp();
    const rules = exprs.map((expr, i) => ({
      record: `dashboard:query_${i}`,
      expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$job', '.+').replaceAll('$target', '.+'),
    }));
    writeFileSync(join(dir, 'dashboard.yaml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
    const result = runTool('promtool', ['check', 'rules', join(dir, 'dashboard.yaml')]);
    expect(result.status, result.output).toBe(0);
  });
});

describe('promtool check metrics', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0).reverse()) await close();
  });

  it('finds nothing to say about grpc-pulse own metrics on a live /metrics', async (context) => {
    needs(context, promtool, 'promtool (Debian prometheus)');
    const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
    cleanup.push(() => target.stop());
    const app = await new RunningApp(testConfig(`  - name: api\n    address: "${target.address}"\n`)).start();
    cleanup.push(() => app.close());
    await app.waitForMetric('grpc_probe_health_watch_up', { target: 'api', health_service: '' }, 1);
    const result = runTool('promtool', ['check', 'metrics'], await app.metricsText());
    const ownProblems = result.output.split('\n').filter((l) => /^grpc_/.test(l));
    expect(ownProblems).toEqual([]);
  });
});
