// The generated alert rules: the checked-in alerts/ is exactly what `grpc-pulse rules` prints, promtool
// accepts them, the promtool unit tests pass, and every alert's tests fail when its expression is
// broken. Also runbooks, the Grafana dashboard, and `promtool check metrics` on a live /metrics.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ALERT_NAMES, type AlertRule, buildRuleGroups } from '../src/alerts/rules.js';
import { SERVER_ALERT_NAMES } from '../src/alerts/server-rules.js';
import { ConfigError, parseConfigText } from '../src/config/load.js';
import { METRICS } from '../src/metrics/names.js';
import { runCli } from './harness/cli-process.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { needs } from './harness/needs.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { hasCommand, runTool } from './harness/tools.js';

const RULES = 'alerts/grpc-pulse.rules.yaml';
const PROMETHEUS_RULE = 'alerts/grpc-pulse.prometheusrule.yaml';
const TEST_DIR = 'alerts/tests';
const TESTS = readdirSync(TEST_DIR)
  .filter((f) => f.endsWith('.test.yaml'))
  .map((f) => join(TEST_DIR, f));
const promtool = hasCommand('promtool');
/** A bound on one promtool run, far above its few seconds on an idle machine. */
const PROMTOOL_TIMEOUT_MS = 240_000;

const tmp = () => mkdtempSync(join(tmpdir(), 'grpc-pulse-alerts-'));

type AnyRule = AlertRule & { record?: string };
interface TestGroup {
  alert_rule_test?: { alertname: string }[];
  promql_expr_test?: { expr: string }[];
}
interface RuleFile {
  groups: { name: string; rules: AnyRule[] }[];
}

/** A rule's identity in messages: the alert or record name and the labels that tell its variants apart. */
const ruleId = (rule: AnyRule) =>
  `${rule.alert ?? rule.record}${rule.labels?.severity ? ` (${rule.labels.severity})` : ''}${rule.labels?.convention ? ` (${rule.labels.convention})` : ''}`;

const rulesOf = (yamlText: string, file = 'alerts.yaml') =>
  buildRuleGroups(parseConfigText(yamlText, file, { baseDir: '.', env: {} }).alerts).flatMap((g) => g.rules);

function configProblems(yamlText: string): string[] {
  try {
    parseConfigText(yamlText, 'alerts.yaml', { baseDir: '.', env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  throw new Error('the config loaded without error');
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

  it('`grpc-pulse rules` with alerts.server.enabled gives the six server alerts for either convention, and promtool accepts them', async () => {
    const dir = tmp();
    for (const convention of ['go_grpc_prometheus', 'opentelemetry']) {
      const config = join(dir, `${convention}.yaml`);
      writeFileSync(
        config,
        `demo: { enabled: true }\nalerts:\n  server:\n    enabled: true\n    conventions: [${convention}]\n`,
      );
      const result = await runCli(['rules', '--config', config, '--format', 'rules'], 30_000);
      expect(result.code, result.stderr).toBe(0);
      const file = parse(result.stdout) as RuleFile;
      const rules = file.groups.flatMap((g) => g.rules);
      const server = [...new Set(rules.flatMap((r) => (r.alert?.startsWith('GrpcServer') ? [r.alert] : [])))];
      expect(server.sort()).toEqual([...SERVER_ALERT_NAMES].sort());
      const conventions = new Set(rules.flatMap((r) => (r.labels?.convention ? [r.labels.convention] : [])));
      expect([...conventions]).toEqual([convention]);
      if (!promtool) continue;
      const out = join(dir, `${convention}.rules.yaml`);
      writeFileSync(out, result.stdout);
      const checked = runTool('promtool', ['check', 'rules', out], undefined, PROMTOOL_TIMEOUT_MS);
      expect(checked.status, checked.output).toBe(0);
    }
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
      // Probe alerts carry the selector in the expression or in the recording rules they read; the
      // server alerts read only their recording rules.
      if ((SERVER_ALERT_NAMES as readonly string[]).includes(rule.alert)) {
        expect(rule.expr, rule.alert).not.toMatch(/\bgrpc_server_/);
        expect(rule.expr, rule.alert).toContain('grpc_pulse:server_');
      } else {
        expect(rule.expr.includes('job="grpc-pulse"') || rule.expr.includes('grpc_pulse:probe_errors:')).toBe(
          true,
        );
      }
    }
    const records = file.groups.flatMap((g) => g.rules).filter((r) => r.record !== undefined);
    for (const rule of records.filter((r) => r.record?.startsWith('grpc_pulse:probe_')))
      expect(rule.expr).toContain('job="grpc-pulse"');
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

  it('generates the six server alerts only when alerts.server.enabled, for each convention asked for', () => {
    const names = (rules: ReturnType<typeof rulesOf>) =>
      [...new Set(rules.flatMap((r) => ('alert' in r ? [r.alert] : [])))].sort();
    const off = rulesOf('demo: { enabled: true }\n');
    expect(names(off).filter((n) => n.startsWith('GrpcServer'))).toEqual([]);
    expect(off.some((r) => 'record' in r && r.record.startsWith('grpc_pulse:server_'))).toBe(false);

    for (const [convention, metrics, codeLabel] of [
      ['go_grpc_prometheus', /\bgrpc_server_(handled_total|handling_seconds_bucket)\{/, 'grpc_code'],
      ['opentelemetry', /\bgrpc_server_call_duration_seconds_(count|bucket)\{/, 'grpc_status'],
    ] as const) {
      const rules = rulesOf(
        `demo: { enabled: true }\nalerts:\n  server:\n    enabled: true\n    conventions: [${convention}]\n` +
          `    selector: 'namespace="shop"'\n    group_by: [cluster, grpc_service]\n    pod_label: kubernetes_pod_name\n`,
      );
      expect(names(rules).filter((n) => n.startsWith('GrpcServer'))).toEqual([...SERVER_ALERT_NAMES].sort());
      const records = rules.filter((r) => 'record' in r && r.record.startsWith('grpc_pulse:server_'));
      expect(records.length).toBeGreaterThanOrEqual(6);
      for (const record of records) {
        expect(record.labels?.convention, record.expr).toBe(convention);
        expect(record.expr).toMatch(metrics);
        expect(record.expr).toContain('namespace="shop"');
        expect(record.expr).toContain('by (cluster, grpc_service');
      }
      const errors = records.find(
        (r) => 'record' in r && r.record === 'grpc_pulse:server_errors:ratio_rate5m',
      );
      expect(errors?.expr).toContain(`${codeLabel}=~"`);
      const skew = rules.find((r) => 'alert' in r && r.alert === 'GrpcServerLoadSkew') as AlertRule;
      expect(skew.annotations.summary).toContain('{{ $labels.kubernetes_pod_name }}');
      expect(records.find((r) => 'record' in r && r.record.includes('pod_calls'))?.expr).toContain(
        'kubernetes_pod_name',
      );
    }
  });

  it('matches the configured codes in every spelling the convention uses, whichever spelling the config uses', () => {
    const rules = rulesOf(
      'demo: { enabled: true }\nalerts:\n  server:\n    enabled: true\n    paged_codes: [UNAVAILABLE, Internal]\n    logged_codes: [CANCELLED]\n',
    );
    const errors = rules.filter((r) => 'record' in r && r.record === 'grpc_pulse:server_errors:ratio_rate5m');
    expect(errors.map((r) => r.expr.match(/(grpc_code|grpc_status)=~"([^"]+)"/)?.[2])).toEqual([
      'Unavailable|UNAVAILABLE|Internal|INTERNAL',
      'UNAVAILABLE|INTERNAL',
    ]);
    const alert = rules.find((r) => 'alert' in r && r.alert === 'GrpcServerErrorRateHigh') as AlertRule;
    expect(alert.annotations.description).toContain('(Unavailable, Internal)');
    expect(alert.annotations.description).toContain("caller's: Canceled.");
  });

  it('rejects server options that could never fire or contradict each other, naming the key', () => {
    expect(
      configProblems(
        'demo: { enabled: true }\nalerts:\n  server:\n    load_skew_factor: 3\n    load_skew_min_pods: 3\n',
      ),
    ).toEqual([
      'alerts.server.load_skew_factor: must be below load_skew_min_pods (3): with N pods the busiest takes at most N times the mean',
    ]);
    expect(
      configProblems(
        'demo: { enabled: true }\nalerts:\n  server:\n    paged_codes: [Unavailable, Bogus]\n    logged_codes: [NOT_FOUND, UNAVAILABLE]\n',
      ),
    ).toEqual(['alerts.server.paged_codes[1]: unknown gRPC code "Bogus" (expected e.g. Unavailable)']);
    expect(
      configProblems(
        'demo: { enabled: true }\nalerts:\n  server:\n    logged_codes: [NOT_FOUND, UNAVAILABLE]\n',
      ),
    ).toEqual(['alerts.server.logged_codes[1]: Unavailable is in paged_codes too']);
    expect(
      configProblems('demo: { enabled: true }\nalerts:\n  server:\n    group_by: [namespace, pod]\n'),
    ).toEqual(['alerts.server.group_by: pod is the pod label: grouping by it leaves one pod per group']);
    expect(
      configProblems(
        'demo: { enabled: true }\nalerts:\n  server:\n    conventions: [prometheus]\n    group_by: [grpc-service]\n    min_calls_per_second: -1\n',
      ).map((p) => p.split(':')[0]),
    ).toEqual([
      'alerts.server.conventions[0]',
      'alerts.server.group_by[0]',
      'alerts.server.min_calls_per_second',
    ]);
  });

  it('accepts a server selector only as PromQL label matchers, so every generated expression parses', () => {
    const server = (selector: string) =>
      `demo: { enabled: true }\nalerts:\n  server:\n    enabled: true\n    selector: ${JSON.stringify(selector)}\n`;
    for (const good of ['', 'namespace="shop"', ` job=~"api-.*" , env!='dev',`, 'a="x\\"}y"']) {
      const rules = rulesOf(server(good));
      expect(
        rules.some((r) => 'alert' in r && r.alert === 'GrpcServerLoadSkew'),
        good,
      ).toBe(true);
    }
    for (const bad of [
      'namespace="shop"}',
      'foo',
      'a="x" b="y"',
      '"}) or vector(1) #',
      'a="x',
      'a=~"x"} or on() up{',
    ]) {
      const problems = configProblems(server(bad));
      expect(problems, bad).toHaveLength(1);
      expect(problems[0], bad).toMatch(/^alerts\.server\.selector: expected /);
    }
  });

  it('accepts the probe selectors only as PromQL label matchers too', () => {
    for (const key of ['selector', 'rpc_probe_selector']) {
      const config = (selector: string) =>
        `demo: { enabled: true }\nalerts:\n  ${key}: ${JSON.stringify(selector)}\n`;
      expect(rulesOf(config('job="grpc-pulse", namespace=~"shop|cart"')).length, key).toBeGreaterThan(0);
      for (const bad of ['job="x"}', 'job', '"}) or vector(1) #']) {
        const problems = configProblems(config(bad));
        expect(problems, `${key}: ${bad}`).toHaveLength(1);
        expect(problems[0], bad).toMatch(new RegExp(`^alerts\\.${key}: expected `));
      }
    }
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

  it('unit tests pass', { timeout: 600_000 }, (context) => {
    needs(context, promtool, 'promtool (Debian prometheus)');
    // One file at a time, with room: promtool is CPU-bound and the machine is shared.
    for (const file of TESTS) {
      const result = runTool('promtool', ['test', 'rules', file], undefined, PROMTOOL_TIMEOUT_MS);
      expect(result.status, result.output).toBe(0);
      expect(result.output).toContain('SUCCESS');
    }
  });

  it('every alert and every recording rule has a unit test that fails when its expression is broken', {
    timeout: 900_000,
  }, (context) => {
    needs(context, promtool, 'promtool (Debian prometheus)');
    const tested = new Set<string>();
    for (const file of TESTS) {
      const tests = parse(readFileSync(file, 'utf8')) as {
        tests: { alert_rule_test?: { alertname: string }[] }[];
      };
      for (const t of tests.tests) for (const a of t.alert_rule_test ?? []) tested.add(a.alertname);
    }
    expect([...tested].sort()).toEqual([...ALERT_NAMES].sort());

    // Each rule on its own (each severity of an alert, each convention of a record) is replaced by an
    // expression that yields nothing: a test that only checks "no alert" would still pass. Each mutant
    // runs the test groups that name its alert or read its record, with the rules of its half loaded
    // (promtool evaluates every loaded rule at every step: all groups for every mutant take minutes).
    const rules = parse(readFileSync(RULES, 'utf8')) as RuleFile;
    const groups = TESTS.flatMap((file) =>
      (parse(readFileSync(file, 'utf8')) as { tests: TestGroup[] }).tests.map((group) => ({ file, group })),
    );
    const dir = tmp();
    mkdirSync(join(dir, 'tests'));
    let mutants = 0;
    rules.groups.forEach((ruleGroup, gi) => {
      ruleGroup.rules.forEach((_, ri) => {
        const mutant: RuleFile = structuredClone(rules);
        const rule = mutant.groups[gi]?.rules[ri] as AnyRule;
        const relevant = groups.filter(({ group }) =>
          rule.alert !== undefined
            ? (group.alert_rule_test ?? []).some((t) => t.alertname === rule.alert)
            : (group.promql_expr_test ?? []).some((t) => t.expr.includes(rule.record as string)),
        );
        expect(relevant.length, `no unit test covers ${ruleId(rule)}`).toBeGreaterThan(0);
        rule.expr = 'vector(1) == 0';
        // The probe and the server rules read disjoint series: load only the mutant's half.
        const server = (name: string) => name.startsWith('grpc-pulse.server.');
        mutant.groups = mutant.groups.filter((g) => server(g.name) === server(ruleGroup.name));
        writeFileSync(join(dir, 'grpc-pulse.rules.yaml'), stringify(mutant));
        const tests = join(dir, 'tests', 'test.yaml');
        writeFileSync(
          tests,
          stringify({
            rule_files: ['../grpc-pulse.rules.yaml'],
            evaluation_interval: '1m',
            tests: relevant.map(({ group }) => group),
          }),
        );
        const result = runTool('promtool', ['test', 'rules', tests], undefined, PROMTOOL_TIMEOUT_MS);
        expect(result.status, `the tests did not notice that ${ruleId(rule)} was broken`).not.toBe(0);
        if (rule.alert !== undefined) expect(result.output).toContain(`alertname: ${rule.alert}`);
        mutants += 1;
      });
    });
    expect(mutants).toBe(rules.groups.reduce((n, g) => n + g.rules.length, 0));
  });
});

describe('dashboard', () => {
  const dashboard = JSON.parse(readFileSync('deploy/grafana/grpc-pulse-dashboard.json', 'utf8')) as {
    panels: { title: string; type: string; targets?: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

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
      METRICS.backends,
      `${METRICS.connectionDuration}_bucket`,
    ]) {
      expect(used).toContain(name);
    }
  });

  it('reads only recorded series that the generated rules record, and has the application-traffic row', () => {
    const file = parse(readFileSync(RULES, 'utf8')) as RuleFile;
    const recorded = new Set(
      file.groups.flatMap((g) => g.rules).flatMap((r) => (r.record ? [r.record] : [])),
    );
    const used = [...exprs.join('\n').matchAll(/\bgrpc_pulse:[a-z0-9_:]+/g)].map(([name]) => name);
    expect(used).toEqual(expect.arrayContaining(['grpc_pulse:server_errors:ratio_rate5m']));
    for (const name of used) expect(recorded.has(name), name).toBe(true);
    const titles = dashboard.panels.map((p) => p.title);
    expect(titles.some((t) => t.startsWith('Application traffic'))).toBe(true);
    for (const record of [
      'server_errors:ratio_rate5m',
      'server_latency:p95_rate5m',
      'server_pod_calls:rate5m',
    ])
      expect(used).toContain(`grpc_pulse:${record}`);
  });

  it('every query parses (promtool check rules on the queries as recording rules)', (context) => {
    needs(context, promtool, 'promtool (Debian prometheus)');
    const dir = tmp();
    const rules = exprs.map((expr, i) => ({
      record: `dashboard:query_${i}`,
      expr: expr
        .replaceAll('$__rate_interval', '5m')
        .replaceAll('$__range', '6h')
        .replace(/\$(job|target|namespace|server_job)\b/g, '.+'),
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
