// The network as a graph: sellers on the left, the marketplaces they sell to on their right,
// level after level. An account sees its neighbourhood (`GET …/network?depth=`); the operator
// sees every connection (`GET /v1/connections`) or focuses on one account. Search highlights,
// a click (or Enter) focuses, and a column with many accounts collapses into "+N more".
// The same connections are listed in a table below the graph.
import { useState } from 'preact/hooks';
import { acct, all } from './api.js';
import { html, useLoad, ErrorNote, Table } from './ui.js';

const COL_W = 230;
const ROW_H = 34;
const NODE_W = 170;
const SHOWN = 30;

const half = (x) => (!x ? 'missing' : x.active ? 'active' : 'paused');
export const stateOf = (c) => (!c.affiliation || !c.registration ? 'missing' : c.affiliation.active && c.registration.active ? 'active' : 'paused');
const resale = (r) => (Array.isArray(r) ? (r.length ? r.join(', ') : 'none') : r);

/** Levels: around an account by distance (sellers negative), else the longest path from a source. */
function levels(conns, center) {
  const level = new Map();
  if (center) {
    level.set(center, 0);
    for (const dir of [-1, 1]) {
      let frontier = [center];
      for (let d = 1; frontier.length && d <= 8; d++) {
        const next = [];
        for (const c of conns) {
          const [from, to] = dir < 0 ? [c.marketplace, c.seller] : [c.seller, c.marketplace];
          if (frontier.includes(from) && !level.has(to)) {
            level.set(to, dir * d);
            next.push(to);
          }
        }
        frontier = next;
      }
    }
  }
  for (const c of conns) for (const a of [c.seller, c.marketplace]) if (!level.has(a)) level.set(a, 0);
  if (!center) {
    for (let i = 0; i < 8; i++) {
      let moved = false;
      for (const c of conns) {
        const want = Math.min(level.get(c.seller) + 1, 8);
        if (level.get(c.marketplace) < want) {
          level.set(c.marketplace, want);
          moved = true;
        }
      }
      if (!moved) break;
    }
  }
  return level;
}

function layout(conns, center, query, expanded) {
  const level = levels(conns, center);
  // A search keeps its hits and their direct neighbours visible in collapsed levels.
  const near = new Set();
  if (query) for (const c of conns) if (c.seller.includes(query) || c.marketplace.includes(query)) near.add(c.seller).add(c.marketplace);
  const lv = [...level.values()];
  const min = lv.length ? Math.min(...lv) : 0;
  const cols = new Map();
  for (const [a, l] of level) (cols.get(l) || cols.set(l, []).get(l)).push(a);
  const pos = new Map();
  let rows = 1;
  const more = [];
  for (const [l, list] of cols) {
    const hit = (a) => (a === center ? 0 : query && a.includes(query) ? 1 : near.has(a) ? 2 : 3);
    list.sort((a, b) => hit(a) - hit(b) || a.localeCompare(b));
    const keep = expanded || list.length <= SHOWN ? list.length : SHOWN;
    const x = (l - min) * COL_W + 10;
    list.forEach((a, i) => pos.set(a, { x, y: Math.min(i, keep) * ROW_H + 10, hidden: i >= keep }));
    if (keep < list.length) more.push({ x, y: keep * ROW_H + 10, n: list.length - keep });
    rows = Math.max(rows, keep + (keep < list.length ? 1 : 0));
  }
  const width = (lv.length ? Math.max(...lv) - min + 1 : 1) * COL_W;
  return { pos, more, width, height: rows * ROW_H + 20 };
}

function Graph({ conns, center, query, expanded, onFocus }) {
  const { pos, more, width, height } = layout(conns, center, query, expanded);
  const ups = new Map();
  const downs = new Map();
  for (const c of conns) {
    ups.set(c.marketplace, (ups.get(c.marketplace) || 0) + 1);
    downs.set(c.seller, (downs.get(c.seller) || 0) + 1);
  }
  const edges = conns.map((c) => {
    const a = pos.get(c.seller);
    const b = pos.get(c.marketplace);
    // Edges of collapsed accounts are left out: hundreds of them would hide the rest.
    if (a.hidden || b.hidden) return null;
    const x1 = a.x + NODE_W;
    const y1 = a.y + 12;
    const x2 = b.x;
    const y2 = b.y + 12;
    const mid = (x1 + x2) / 2;
    const title = `${c.seller} → ${c.marketplace}: seller's half ${half(c.affiliation)}, marketplace's half ${half(c.registration)}` +
      (c.affiliation ? `; resale ${resale(c.affiliation.resale)}; own stock ${c.affiliation.require_own_stock ? 'required' : 'not required'}` : '');
    const faded = query && !c.seller.includes(query) && !c.marketplace.includes(query) ? ' faded' : '';
    return html`<path key=${c.seller + '>' + c.marketplace} class=${`edge ${stateOf(c)}${faded}`} d=${`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`} marker-end="url(#arrow)"><title>${title}</title></path>`;
  });
  const nodes = [...pos].filter(([, p]) => !p.hidden).map(([a, p]) => {
    const cls = `node ${a === center ? 'center' : ''} ${query && a.includes(query) ? 'hit' : ''}`;
    const label = `${a}: ${ups.get(a) || 0} sellers, ${downs.get(a) || 0} marketplaces. Focus on it.`;
    const key = (e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), onFocus(a));
    return html`<g key=${a} class=${cls} transform=${`translate(${p.x},${p.y})`} tabindex="0" role="button" aria-label=${label}
      data-account=${a} onClick=${() => onFocus(a)} onKeyDown=${key}>
      <rect width=${NODE_W} height="24" rx="4" /><text x="8" y="16">${a.length > 22 ? a.slice(0, 21) + '…' : a}</text></g>`;
  });
  return html`<div class="graph-wrap" role="region" aria-label="Network graph" tabindex="0">
    <svg width=${Math.max(width, 300)} height=${height} role="img" aria-label=${`Network graph: ${pos.size} accounts, ${conns.length} connections`}>
      <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M0,0 L10,5 L0,10 z" class="arrowhead" /></marker></defs>
      ${edges}${nodes}
      ${more.map((m) => html`<text key=${m.x} class="more" x=${m.x + 8} y=${m.y + 16}>+${m.n} more</text>`)}
    </svg></div>`;
}

export function Network({ account, tick, who }) {
  const [whole, setWhole] = useState(who.operator);
  const [center, setCenter] = useState(null);
  const [depth, setDepth] = useState(3);
  const [query, setQuery] = useState('');
  const [expanded, setExpanded] = useState(false);
  const around = center || account;
  const load = () => (who.operator && whole && !center
    ? all('/v1/connections', 'connections')
    : all(`${acct(around)}/network?depth=${depth}`, 'connections'));
  const { data, error, loading } = useLoad(load, [around, whole, depth, tick]);
  const conns = data || [];
  const focus = (a) => {
    if (who.operator || a === account) setCenter(a === account && !who.operator ? null : a);
  };
  const q = query.trim().toLowerCase();
  const listed = conns.filter((c) => !q || c.seller.includes(q) || c.marketplace.includes(q));
  return html`<section aria-labelledby="net-h">
    <h2 id="net-h">Network ${who.operator && whole && !center ? '(every connection)' : `around ${around}`}</h2>
    <div class="filters">
      ${who.operator ? html`<label class="check"><input type="checkbox" checked=${whole} onChange=${(e) => (setWhole(e.currentTarget.checked), setCenter(null))} /> Whole network</label>` : ''}
      <label>Depth <select value=${depth} onChange=${(e) => setDepth(Number(e.currentTarget.value))}>
        ${[1, 2, 3, 4, 5, 6, 7, 8].map((d) => html`<option value=${d}>${d}</option>`)}</select></label>
      <label>Search accounts <input type="search" value=${query} onInput=${(e) => setQuery(e.currentTarget.value)} /></label>
      <label class="check"><input type="checkbox" checked=${expanded} onChange=${(e) => setExpanded(e.currentTarget.checked)} /> Show every account of a level</label>
      ${center ? html`<button type="button" onClick=${() => setCenter(null)}>Back to ${who.operator && whole ? 'the whole network' : account}</button>` : ''}
    </div>
    <${ErrorNote} error=${error} />
    <p>${conns.length} connections${loading ? ' (loading…)' : ''}. <span class="legend"><span class="k active">active</span> <span class="k paused">paused</span> <span class="k missing">missing half</span></span>
      ${who.operator ? ' Click or press Enter on an account to focus on it.' : ''}</p>
    <${Graph} conns=${conns} center=${who.operator && whole && !center ? null : around} query=${q} expanded=${expanded} onFocus=${focus} />
    <${Table} caption="Connections" head=${['Seller', 'Marketplace', "Seller's half", "Marketplace's half", 'State', 'Resale', 'Own stock required', 'Match mode']}>
      ${listed.slice(0, 300).map((c) => html`<tr key=${c.seller + '>' + c.marketplace} data-connection=${`${c.seller}>${c.marketplace}`}>
        <td>${c.seller}</td><td>${c.marketplace}</td><td>${half(c.affiliation)}</td><td>${half(c.registration)}</td>
        <td class=${`state ${stateOf(c)}`}>${stateOf(c) === 'missing' ? 'missing half' : stateOf(c)}</td>
        <td>${c.affiliation ? resale(c.affiliation.resale) : '—'}</td><td>${c.affiliation ? (c.affiliation.require_own_stock ? 'yes' : 'no') : '—'}</td>
        <td>${c.registration ? c.registration.match_mode : '—'}</td></tr>`)}
    <//>
    ${listed.length > 300 ? html`<p>Showing 300 of ${listed.length} connections: search to narrow.</p>` : ''}
  </section>`;
}
