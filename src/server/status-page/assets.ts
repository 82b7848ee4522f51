// The status page's stylesheet, script and icon, served from the sidecar itself (no external asset,
// nothing inline, so the CSP can forbid both). The script only swaps in the HTML the server renders.

/** Light by default, dark under prefers-color-scheme; colour always comes with a word. */
export const PAGE_CSS = `:root{--bg:#f7f7f8;--card:#fff;--fg:#1b1d21;--muted:#5c6370;--line:#dcdfe4;
--ok:#137a3a;--ok-bg:#def5e5;--fail:#b3261e;--fail-bg:#fde2df;--warn:#8a5a00;--warn-bg:#fff0c2;
--pending:#4a5568;--pending-bg:#e6e8ec;--code:#eef0f3;--link:#0b57d0}
@media (prefers-color-scheme:dark){:root{--bg:#111317;--card:#1a1d23;--fg:#e6e8eb;--muted:#9aa3ae;
--line:#2d323b;--ok:#6fdc8c;--ok-bg:#173b24;--fail:#ff8a80;--fail-bg:#4a1c1a;--warn:#ffd166;
--warn-bg:#3e3214;--pending:#b8c0cc;--pending-bg:#2a2f38;--code:#252a33;--link:#8ab4f8}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.4em 1em;padding:.6em 1.2em;border-bottom:1px solid var(--line);background:var(--card)}
h1{font-size:1.25em;margin:0}
.version{color:var(--muted)}
nav{margin-left:auto;display:flex;gap:1em}
a{color:var(--link)}
main{max-width:1240px;margin:0 auto;padding:.8em 1.2em 2em}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
code{background:var(--code);padding:0 .3em;border-radius:3px}
pre{background:var(--code);padding:.5em .7em;border-radius:4px;white-space:pre-wrap;word-break:break-word;margin:.3em 0}
.badge{display:inline-block;min-width:5.2em;text-align:center;font-weight:700;font-size:.78em;letter-spacing:.03em;padding:.1em .5em;border-radius:3px;border:1px solid currentColor}
.badge.ok{color:var(--ok);background:var(--ok-bg)}
.badge.fail{color:var(--fail);background:var(--fail-bg)}
.badge.warn{color:var(--warn);background:var(--warn-bg)}
.badge.pending{color:var(--pending);background:var(--pending-bg)}
.feed{font-size:.85em;padding:.1em .6em;border-radius:3px;color:var(--muted)}
.feed.live{color:var(--ok)}
.feed.live::before{content:"● "}
.feed.lost{color:var(--fail);background:var(--fail-bg);font-weight:700}
.summary{font-size:1.05em;margin:.2em 0 1em;padding:.6em .9em;border-radius:6px;background:var(--card);border:1px solid var(--line);border-left:6px solid var(--ok)}
.summary.failing{border-left-color:var(--fail)}
.summary.degraded{border-left-color:var(--warn)}
.count{font-weight:700;font-size:1.15em}
.count.fail{color:var(--fail)}
.count.warn{color:var(--warn)}
.count.ok{color:var(--ok)}
.target{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--ok);border-radius:6px;margin:0 0 .7em}
.target.failing{border-left-color:var(--fail)}
.target.degraded{border-left-color:var(--warn)}
.target>summary{cursor:pointer;padding:.4em .8em;display:flex;flex-wrap:wrap;align-items:baseline;gap:.2em .7em}
.tname{font-weight:700;font-size:1.08em}
.addr,.mode,.run,.code{color:var(--muted)}
.addr{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}
.headline{margin-left:.4em}
.target.failing .headline{color:var(--fail);font-weight:600}
.target.degraded .headline{color:var(--warn)}
.body{padding:0 .8em .6em 1.2em;border-top:1px solid var(--line)}
.conn,.disconnect{margin:.35em 0;color:var(--muted)}
.conn .badge{min-width:0}
.probes,.backends,.history{list-style:none;margin:.3em 0;padding:0}
.probe{padding:.3em 0;border-top:1px dashed var(--line)}
.probe:first-child{border-top:0}
.line{display:flex;flex-wrap:wrap;align-items:baseline;gap:.2em .6em}
.name{font-weight:600}
.reason{font-weight:700;color:var(--fail)}
.explain{margin:.25em 0 0 6.2em;color:var(--fg)}
.explain .meaning{color:var(--fg)}
.runbook{margin-left:.4em;white-space:nowrap}
.raw{margin:.2em 0 0 6.2em;color:var(--muted)}
.raw summary{cursor:pointer}
.disconnect .raw,.disconnect .raw summary{display:inline;margin:0}
.disconnect .raw summary::before{content:"▸ "}
.disconnect .raw[open] summary::before{content:"▾ "}
.strip{display:inline-flex;gap:2px;margin-left:auto;align-self:center}
.seg{display:inline-block;width:12px;height:14px;border-radius:2px}
.seg.ok{background:var(--ok)}
.seg.fail{background:var(--fail)}
.history li{margin:.15em 0}
.history .badge{min-width:0}
h4{margin:.6em 0 .2em;font-size:.95em}
.backend{padding:.15em 0}
.empty{color:var(--muted)}
@media (max-width:640px){header{padding:.5em .7em}nav{margin-left:0}main{padding:.6em .5em}
.headline{flex-basis:100%;margin-left:0}.explain,.raw{padding-left:0;margin-left:0}.strip{margin-left:0}.body{padding:0 .6em .5em}}
`;

/**
 * Live updates: the server pushes the rendered #live fragment over Server-Sent Events (event "page";
 * "ping" keeps the line warm). The script keeps the user's open/closed details across swaps, keeps
 * ages ticking and says when the feed is lost.
 */
export const PAGE_JS = `'use strict';
(function () {
  var feed = document.getElementById('feed');
  var toggled = {};
  var skew = 0;
  var lastMessage = 0;
  var lostAt = null;
  var STALE_MS = 25000;

  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function clock(ms) { var d = new Date(ms); return pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds()); }
  function duration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
  }
  function setFeed(kind, text) { feed.className = 'feed ' + kind; feed.textContent = text; }
  function readSkew() {
    var live = document.getElementById('live');
    if (live && live.dataset.now) skew = Date.parse(live.dataset.now) - Date.now();
    if (live && live.dataset.title) document.title = live.dataset.title;
  }
  function tick() {
    var now = Date.now() + skew;
    var ages = document.querySelectorAll('[data-ago]');
    for (var i = 0; i < ages.length; i++) ages[i].textContent = duration(now - Date.parse(ages[i].getAttribute('data-ago')));
    var pageTime = document.getElementById('page-time');
    if (pageTime && lostAt === null && lastMessage > 0) pageTime.textContent = clock(now) + ' UTC';
    if (lastMessage > 0 && lostAt === null && Date.now() - lastMessage > STALE_MS) lost();
  }
  function lost() {
    if (lostAt === null) lostAt = Date.now() + skew;
    setFeed('lost', 'live updates lost at ' + clock(lostAt) + ' UTC, retrying: the page may be stale');
  }
  document.addEventListener('toggle', function (e) {
    var el = e.target;
    if (el && el.id && el.tagName === 'DETAILS') toggled[el.id] = el.open;
  }, true);
  function swap(html) {
    var live = document.getElementById('live');
    if (!live) return;
    var next = document.createElement('div');
    next.innerHTML = html;
    var fresh = next.firstElementChild;
    if (!fresh) return;
    var all = fresh.querySelectorAll('details[id]');
    for (var i = 0; i < all.length; i++) {
      var want = toggled[all[i].id];
      if (want !== undefined) all[i].open = want;
    }
    live.replaceWith(fresh);
    readSkew();
  }
  readSkew();
  if (!window.EventSource) { setFeed('off', 'static page: no live updates in this browser'); return; }
  setFeed('off', 'connecting to the live feed...');
  var source = new EventSource('/status/events');
  function alive() { lastMessage = Date.now(); if (lostAt !== null || feed.className !== 'feed live') { lostAt = null; setFeed('live', 'live'); } }
  source.addEventListener('open', alive);
  source.addEventListener('page', function (e) { swap(e.data); alive(); });
  source.addEventListener('ping', alive);
  source.addEventListener('error', function () { if (source.readyState !== 1) lost(); });
  setInterval(tick, 1000);
})();
`;

/** A pulse on a dark square; served so the browser's favicon request finds something. */
export const PAGE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1b1d21"/><path d="M1 9h3l2-5 3 9 2-4h4" fill="none" stroke="#6fdc8c" stroke-width="1.6" stroke-linejoin="round"/></svg>`;
