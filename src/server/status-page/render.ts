// HTML of the status page: the shell (served at `/`) and the live fragment inside it (also sent over
// the live feed, so the browser never renders anything itself). No inline script or style: the CSP
// allows only same-origin files. Every text from a target or a remote server is escaped.

import { type Explanation, explainDisconnect, explainFailure } from '../../outcome/troubleshooting.js';
import type { DisconnectRun, ProbeRun, TargetStatus } from '../../status/status-store.js';
import {
  backendDown,
  certLeft,
  type PageOptions,
  type ProbeView,
  pageModel,
  type Summary,
  type TargetView,
} from './model.js';

/** With more targets than this, healthy ones start collapsed. */
const EXPAND_HEALTHY_UP_TO = 6;
/** Runs drawn in a probe's transition strip. */
const STRIP_RUNS = 12;

export const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** The inline markdown of docs/troubleshooting.md: `code` spans and [text](link) (kept as text). */
function inlineMarkdown(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1');
}

/** The last `now` asked about and its UTC date: a page asks thousands of times with the same now. */
let today = { now: Number.NaN, date: '' };

/** 18:21:30, or 2026-11-30 18:21:30 when not today (UTC, like the logs). */
function clock(iso: string, now: number): string {
  if (today.now !== now) today = { now, date: new Date(now).toISOString().slice(0, 10) };
  const date = iso.slice(0, 10);
  const time = iso.slice(11, 19);
  return date === today.date ? time : `${date} ${time}`;
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** A time with its age; the script keeps the age ticking (data-ago). */
function timeAgo(iso: string, now: number): string {
  return `<time datetime="${iso}">${clock(iso, now)}</time> (<span data-ago="${iso}">${duration(now - Date.parse(iso))}</span> ago)`;
}

function badge(kind: string, text: string): string {
  return `<span class="badge ${kind}">${escapeHtml(text)}</span>`;
}

function runbookLink(e: Explanation | undefined, options: PageOptions): string {
  if (!e?.runbook) return '';
  const href = `${options.runbookBaseUrl.replace(/\/$/, '')}/${e.runbook}.md`;
  return ` <a class="runbook" href="${escapeHtml(href)}" rel="noopener noreferrer">runbook ${escapeHtml(e.runbook)}</a>`;
}

function explanation(e: Explanation | undefined, options: PageOptions): string {
  if (!e) return '<div class="explain">not in docs/troubleshooting.md yet: see the raw detail</div>';
  return `<div class="explain"><span class="meaning">${inlineMarkdown(e.meaning)}</span><br><b>Check:</b> ${inlineMarkdown(e.check)}${runbookLink(e, options)}</div>`;
}

function runText(run: ProbeRun): string {
  return run.success ? 'ok' : (run.reason ?? 'failing');
}

function strip(runs: ProbeRun[], now: number): string {
  const shown = runs.slice(-STRIP_RUNS);
  const cells = shown.map((r) => {
    const title = `${runText(r)} ×${r.count} from ${clock(r.since, now)} to ${clock(r.last, now)}`;
    return `<span class="seg ${r.success ? 'ok' : 'fail'}" title="${escapeHtml(title)}"></span>`;
  });
  return `<span class="strip" role="img" aria-label="last ${shown.length} state changes, oldest first">${cells.join('')}</span>`;
}

function historyList(runs: ProbeRun[], now: number): string {
  const items = [...runs]
    .reverse()
    .map(
      (r) =>
        `<li>${badge(r.success ? 'ok' : 'fail', runText(r))} ×${r.count} since <time datetime="${r.since}">${clock(r.since, now)}</time>, last <time datetime="${r.last}">${clock(r.last, now)}</time></li>`,
    );
  return `<ol class="history">${items.join('')}</ol>`;
}

function probeRow(t: TargetView, p: ProbeView, options: PageOptions, now: number): string {
  const kind = p.state === 'ok' ? 'ok' : p.state === 'failing' ? 'fail' : 'pending';
  const id = `p-${t.status.name}-${p.name}`;
  const run = p.run;
  let what = '';
  if (p.state === 'failing' && run) {
    what = `<code class="reason">${escapeHtml(p.reason ?? '')}</code>${p.grpcCode ? ` <span class="code">${escapeHtml(p.grpcCode)}</span>` : ''} <span class="run">×${run.count} since ${timeAgo(run.since, now)}</span>`;
  } else if (p.state === 'ok' && run) {
    what = `<span class="run">since ${timeAgo(run.since, now)}</span>`;
  } else {
    what = '<span class="run">no result yet</span>';
  }
  const detail =
    p.details || p.runs.length > 1
      ? `<details class="raw" id="${escapeHtml(id)}-raw"><summary>raw detail and history</summary>${p.details ? `<pre>${escapeHtml(p.details)}</pre>` : ''}${historyList(p.runs, now)}</details>`
      : '';
  const explain = p.state === 'failing' ? explanation(explainFailure(p.reason ?? 'unknown'), options) : '';
  return `<li class="probe ${kind}" data-probe="${escapeHtml(p.name)}" data-state="${p.state}">
<div class="line">${badge(kind, p.label)} <span class="name">${escapeHtml(p.name)}</span>${p.mode ? ` <span class="mode">${escapeHtml(p.mode)}</span>` : ''} ${what} ${strip(p.runs, now)}</div>
${explain}${detail}</li>`;
}

function lastDisconnect(d: DisconnectRun, options: PageOptions, now: number): string {
  const e = explainDisconnect(d.reason);
  return `<div class="disconnect">Last disconnect <code>${escapeHtml(d.reason)}</code>${d.count > 1 ? ` ×${d.count} since <time datetime="${d.since}">${clock(d.since, now)}</time>,` : ''} ${timeAgo(d.last, now)}${e ? `: <span class="meaning">${inlineMarkdown(e.meaning)}</span>${runbookLink(e, options)}` : ''}${d.details ? ` <details class="raw"><summary>raw</summary><pre>${escapeHtml(d.details)}</pre></details>` : ''}</div>`;
}

function connection(t: TargetView, options: PageOptions, now: number): string {
  const s = t.status;
  const stateKind =
    s.channelState === 'READY' ? 'ok' : s.channelState === 'TRANSIENT_FAILURE' ? 'fail' : 'pending';
  const parts = [
    `channel ${badge(stateKind, s.channelState)} since ${timeAgo(s.channelStateSince ?? new Date(now).toISOString(), now)}`,
  ];
  if (s.connectedSince)
    parts.push(
      `connection age <span data-ago="${s.connectedSince}">${duration(now - Date.parse(s.connectedSince))}</span>`,
    );
  else parts.push('not connected');
  if (t.certDaysLeft !== undefined && s.tlsCertExpiry) {
    const kind =
      t.certDaysLeft <= options.tlsCriticalDays
        ? 'fail'
        : t.certDaysLeft <= options.tlsWarningDays
          ? 'warn'
          : 'ok';
    parts.push(
      `certificate ${badge(kind, `${certLeft(Date.parse(s.tlsCertExpiry) - now)} left`)} (expires ${escapeHtml(s.tlsCertExpiry.slice(0, 16).replace('T', ' '))} UTC)`,
    );
  }
  const d = s.disconnectHistory?.[0];
  return `<div class="conn">${parts.join(' · ')}</div>${d ? lastDisconnect(d, options, now) : ''}`;
}

function backends(t: TargetView): string {
  if (t.backends.length === 0) return '';
  const rows = t.backends.map((b) => {
    const kind = backendDown(b) ? 'fail' : 'ok';
    return `<li class="backend ${kind}">${badge(kind, b.state)} <span class="name">${escapeHtml(b.backend)}</span>${b.reason ? ` <code>${escapeHtml(b.reason)}</code>` : ''}</li>`;
  });
  return `<h4>Backends</h4><ul class="backends">${rows.join('')}</ul>`;
}

const VERDICT_TEXT = { failing: 'FAILING', degraded: 'DEGRADED', healthy: 'HEALTHY' } as const;
const VERDICT_KIND = { failing: 'fail', degraded: 'warn', healthy: 'ok' } as const;

function targetCard(t: TargetView, open: boolean, options: PageOptions, now: number): string {
  const s = t.status;
  return `<details class="target ${t.verdict}" id="t-${escapeHtml(s.name)}" data-target="${escapeHtml(s.name)}" data-verdict="${t.verdict}"${open ? ' open' : ''}>
<summary>${badge(VERDICT_KIND[t.verdict], VERDICT_TEXT[t.verdict])} <span class="tname">${escapeHtml(s.name)}</span> <span class="addr">${escapeHtml(s.address)}</span> <span class="headline">${escapeHtml(t.headline)}</span></summary>
<div class="body">${connection(t, options, now)}
<ul class="probes">${t.probes.map((p) => probeRow(t, p, options, now)).join('\n')}</ul>
${backends(t)}</div>
</details>`;
}

function summaryLine(s: Summary, now: number): string {
  const parts = [
    `<span class="count" data-count="targets">${s.targets}</span> targets`,
    `<span class="count${s.byVerdict.failing > 0 ? ' fail' : ''}" data-count="failing">${s.byVerdict.failing}</span> failing`,
    `<span class="count${s.byVerdict.degraded > 0 ? ' warn' : ''}" data-count="degraded">${s.byVerdict.degraded}</span> degraded`,
    `<span class="count ok" data-count="healthy">${s.byVerdict.healthy}</span> healthy`,
  ];
  const probes = `<span class="count${s.probesFailing > 0 ? ' fail' : ''}" data-count="probes-failing">${s.probesFailing}</span> of ${s.probes} probes failing`;
  const backendsText =
    s.backends === 0
      ? 'no fan-out backends'
      : `<span class="count${s.backendsDown > 0 ? ' fail' : ''}" data-count="backends-down">${s.backendsDown}</span> of ${s.backends} backends down`;
  const change = s.lastChange
    ? `last change ${timeAgo(s.lastChange.time, now)}: ${escapeHtml(s.lastChange.what)}`
    : 'no change yet';
  const at = new Date(now).toISOString();
  return `<p class="summary ${s.byVerdict.failing > 0 ? 'failing' : s.byVerdict.degraded > 0 ? 'degraded' : 'healthy'}" id="summary">${parts.join(' · ')}<br>${probes} · ${backendsText} · ${change} · page time <time id="page-time" datetime="${at}">${clock(at, now)} UTC</time></p>`;
}

/** The page title: what a tab strip shows. */
function title(s: Summary): string {
  if (s.byVerdict.failing > 0) return `${s.byVerdict.failing} failing · grpc-pulse`;
  if (s.byVerdict.degraded > 0) return `${s.byVerdict.degraded} degraded · grpc-pulse`;
  return 'all healthy · grpc-pulse';
}

/** The part of the page that changes: summary and targets. Also the payload of the live feed. */
export function renderLive(targets: readonly TargetStatus[], options: PageOptions, now = Date.now()): string {
  const { views, summary } = pageModel(targets, options, now);
  const expandHealthy = views.length <= EXPAND_HEALTHY_UP_TO;
  const cards = views.map((v) => targetCard(v, v.verdict !== 'healthy' || expandHealthy, options, now));
  const empty = views.length === 0 ? '<p class="empty">No targets configured.</p>' : '';
  return `<div id="live" data-now="${new Date(now).toISOString()}" data-title="${escapeHtml(title(summary))}">
${summaryLine(summary, now)}
${empty}${cards.join('\n')}
</div>`;
}

export const ASSET_PATHS = {
  css: '/status/page.css',
  js: '/status/page.js',
  icon: '/status/icon.svg',
  events: '/status/events',
} as const;

/** The whole page; it works without JavaScript (and then refreshes itself every 15 s). */
export function renderStatusPage(
  targets: readonly TargetStatus[],
  options: PageOptions,
  now = Date.now(),
): string {
  const { summary } = pageModel(targets, options, now);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title(summary))}</title>
<link rel="icon" href="${ASSET_PATHS.icon}" type="image/svg+xml">
<link rel="stylesheet" href="${ASSET_PATHS.css}">
<script src="${ASSET_PATHS.js}" defer></script>
<noscript><meta http-equiv="refresh" content="15"></noscript>
</head><body>
<header><h1>grpc-pulse</h1> <span class="version">${escapeHtml(options.version)}</span>
<span id="feed" class="feed off" role="status">static page: refreshes every 15 s</span>
<nav><a href="/metrics">/metrics</a> <a href="/api/v1/targets">/api/v1/targets</a> <a href="/-/healthy">/-/healthy</a> <a href="/-/ready">/-/ready</a></nav></header>
<main>
${renderLive(targets, options, now)}
</main>
</body></html>
`;
}
