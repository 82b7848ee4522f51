// The shapes of Prometheus rules and the pieces every rule builder shares: the burn-rate table of the
// error-budget alerts and number formatting.

export interface RecordingRule {
  record: string;
  expr: string;
  /** Labels the recorded series get (e.g. which server convention they were computed from). */
  labels?: Record<string, string>;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup {
  name: string;
  rules: (RecordingRule | AlertRule)[];
}

/** The windows of the error-budget alerts (Google SRE workbook, "multiwindow, multi-burn-rate"). */
export const BURN_WINDOWS = ['5m', '30m', '1h', '6h'] as const;

/** The workbook's two pages: a fast burn (2% of a 30-day budget in 1 h) and a slow one (5% in 6 h). */
export const BURN_RATES = [
  { severity: 'critical', short: '5m', long: '1h', factor: 14.4, for: '2m', budgetGoneDays: 2 },
  { severity: 'warning', short: '30m', long: '6h', factor: 6, for: '15m', budgetGoneDays: 5 },
] as const;

/** Avoids float noise such as 0.0010000000000000009 in expressions. */
export function round(value: number): string {
  return String(Number(value.toPrecision(6)));
}

/** `{a, b}` from matchers, skipping empty ones; "" when there are none. */
export function matchers(...list: string[]): string {
  const kept = list.filter((m) => m !== '');
  return kept.length === 0 ? '' : `{${kept.join(', ')}}`;
}

/** What every alert gets besides its own text: extra labels and the base of its runbook link. */
export interface AlertCommon {
  runbookBaseUrl: string;
  extraLabels: Record<string, string>;
}

/** A builder of alert rules that share `common`: severity label, annotations, runbook link. */
export function alertBuilder<Name extends string>(common: AlertCommon) {
  return (
    name: Name,
    severity: 'critical' | 'warning',
    expr: string,
    forDuration: string,
    summary: string,
    description: string,
  ): AlertRule => ({
    alert: name,
    expr,
    for: forDuration,
    labels: { severity, ...common.extraLabels },
    annotations: { summary, description, runbook_url: `${common.runbookBaseUrl}/${name}.md` },
  });
}
