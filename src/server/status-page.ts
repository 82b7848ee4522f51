// The landing page at `/`: links to the endpoints, then per target its channel state, one row per
// probe, and the recent failures and disconnects with their raw details, for a human in a hurry.

import type { TargetStatus } from '../status/status-store.js';

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function targetSection(t: TargetStatus): string {
  const health = Object.entries(t.health).map(
    ([service, h]) =>
      `<tr><td>health ${escapeHtml(service || '(server)')}</td><td>${h.status}</td>` +
      `<td>${h.watchUp === null ? 'check' : h.watchUp ? 'watch open' : 'watch down'}</td></tr>`,
  );
  const probes = Object.entries(t.probes).map(
    ([probe, p]) =>
      `<tr><td>${escapeHtml(probe)}</td><td>${p.success ? 'ok' : 'failing'}</td>` +
      `<td>${escapeHtml(p.lastReason ?? '')} ${escapeHtml(p.lastDetails ?? '')}</td></tr>`,
  );
  const events = [
    ...t.recentFailures.map((f) => ({
      time: f.time,
      what: `failure ${f.probe}`,
      reason: f.reason,
      details: f.details,
    })),
    ...t.recentDisconnects.map((d) => ({
      time: d.time,
      what: 'disconnect',
      reason: d.reason,
      details: d.details,
    })),
  ]
    .sort((a, b) => b.time.localeCompare(a.time))
    .slice(0, 10)
    .map(
      (e) =>
        `<tr><td>${e.time}</td><td>${escapeHtml(e.what)}</td><td>${e.reason}</td><td>${escapeHtml(e.details)}</td></tr>`,
    );
  return `<h2>${escapeHtml(t.name)} <small>${escapeHtml(t.address)} · channel ${t.channelState}${
    t.tlsCertExpiry ? ` · certificate expires ${t.tlsCertExpiry}` : ''
  }</small></h2>
<table><tr><th>probe</th><th>state</th><th>detail</th></tr>
${[...health, ...probes].join('\n')}
</table>
${events.length > 0 ? `<table><tr><th>time</th><th>event</th><th>reason</th><th>details</th></tr>\n${events.join('\n')}\n</table>` : ''}`;
}

export function renderStatusPage(targets: TargetStatus[], version: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>grpc-pulse</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}small{color:#666;font-weight:normal}</style>
</head><body>
<h1>grpc-pulse ${escapeHtml(version)}</h1>
<p><a href="/metrics">/metrics</a> · <a href="/api/v1/targets">/api/v1/targets</a> · <a href="/-/healthy">/-/healthy</a> · <a href="/-/ready">/-/ready</a></p>
${targets.map(targetSection).join('\n')}
</body></html>
`;
}
