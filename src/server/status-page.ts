// The landing page at `/`: links to the endpoints and one table row per probe, for a human in a hurry.

import type { TargetStatus } from '../status/status-store.js';

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

export function renderStatusPage(targets: TargetStatus[], version: string): string {
  const rows = targets.flatMap((t) => [
    ...Object.entries(t.health).map(
      ([service, h]) =>
        `<tr><td>${escapeHtml(t.name)}</td><td>health ${escapeHtml(service || '(server)')}</td>` +
        `<td>${h.status}</td><td>${h.watchUp === null ? 'check' : h.watchUp ? 'watch open' : 'watch down'}</td><td></td></tr>`,
    ),
    ...Object.entries(t.probes).map(
      ([probe, p]) =>
        `<tr><td>${escapeHtml(t.name)}</td><td>${escapeHtml(probe)}</td><td>${p.success ? 'ok' : 'failing'}</td>` +
        `<td>${escapeHtml(p.lastReason ?? '')}</td><td>${escapeHtml(p.lastDetails ?? '')}</td></tr>`,
    ),
  ]);
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>grpc-pulse</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}</style>
</head><body>
<h1>grpc-pulse ${escapeHtml(version)}</h1>
<p><a href="/metrics">/metrics</a> · <a href="/api/v1/targets">/api/v1/targets</a> · <a href="/-/healthy">/-/healthy</a> · <a href="/-/ready">/-/ready</a></p>
<table><tr><th>target</th><th>probe</th><th>state</th><th>detail</th><th>last error</th></tr>
${rows.join('\n')}
</table></body></html>
`;
}
