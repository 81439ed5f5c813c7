// Offers at a marketplace (filtered by reason and seller, with counts per reason), the explain
// tree of one offer, and what a seller sends to each marketplace.
import { useState } from 'preact/hooks';
import { acct, all, enc, get } from './api.js';
import { html, useLoad, ErrorNote, Reasons, Table, money, qty, reasonText, REASONS } from './ui.js';

function count(offers) {
  const by = {};
  for (const o of offers) for (const r of o.reasons) by[r] = (by[r] || 0) + 1;
  return Object.keys(REASONS).filter((r) => by[r]).map((r) => [r, by[r]]).concat(Object.entries(by).filter(([r]) => !REASONS[r]));
}

export function Offers({ account, tick }) {
  const { data, error, loading } = useLoad(() => all(`${acct(account)}/offers`, 'offers'), [account, tick]);
  const [reason, setReason] = useState('');
  const [seller, setSeller] = useState('');
  const [open, setOpen] = useState(null);
  const offers = data || [];
  const sellers = [...new Set(offers.map((o) => o.seller))].sort();
  const shown = offers.filter((o) => (!reason || (reason === '-' ? o.reasons.length === 0 : o.reasons.includes(reason))) && (!seller || o.seller === seller));
  const counts = count(offers);
  return html`<section aria-labelledby="offers-h">
    <h2 id="offers-h">Offers at ${account}</h2>
    <${ErrorNote} error=${error} />
    <p>${offers.length} offers, ${offers.filter((o) => o.sellable).length} sellable${loading ? ' (loading…)' : ''}.</p>
    <ul class="counts" aria-label="Offers per reason">
      ${counts.map(([r, n]) => html`<li key=${r}><button type="button" class=${reason === r ? 'on' : ''} aria-pressed=${reason === r}
        onClick=${() => setReason(reason === r ? '' : r)}><strong>${n}</strong> offer${n === 1 ? '' : 's'} blocked by <code>${r}</code></button></li>`)}
    </ul>
    <div class="filters">
      <label>Reason <select value=${reason} onChange=${(e) => setReason(e.currentTarget.value)}>
        <option value="">any</option><option value="-">none (sellable)</option>
        ${counts.map(([r]) => html`<option value=${r}>${r}</option>`)}</select></label>
      <label>Seller <select value=${seller} onChange=${(e) => setSeller(e.currentTarget.value)}>
        <option value="">any</option>${sellers.map((s) => html`<option value=${s}>${s}</option>`)}</select></label>
    </div>
    <${Table} caption="Offers" head=${['SKU', 'Seller', 'Price', 'Quantity', 'Sellable', 'Reasons', '']}>
      ${shown.slice(0, 500).map((o) => html`<tr key=${o.sku + '/' + o.seller} class=${o.sellable ? 'sellable' : 'blocked'} data-sku=${o.sku} data-seller=${o.seller}>
        <td>${o.sku}</td><td>${o.seller} <small>(${o.seller_sku})</small></td><td>${money(o.price)}</td>
        <td class="num">${qty(o.quantity, o.unlimited)}</td><td>${o.sellable ? 'yes' : 'no'}</td>
        <td><${Reasons} reasons=${o.reasons} /></td>
        <td><button type="button" onClick=${() => setOpen(o.sku)}>Explain</button></td></tr>`)}
    <//>
    ${shown.length > 500 ? html`<p>Showing 500 of ${shown.length}: narrow the filters.</p>` : ''}
    ${open ? html`<${Explain} account=${account} sku=${open} tick=${tick} onClose=${() => setOpen(null)} />` : ''}
  </section>`;
}

/** Every node of a path that has reasons: where the chain is blocked. */
function blocks(node, out = []) {
  if (node.reasons.length) out.push(node);
  for (const s of node.sources || []) blocks(s, out);
  return out;
}

const inf = (v) => (v === null || v === undefined ? '∞' : String(v));

function Node({ n, top }) {
  const counted = top ? !n.gated : n.included;
  return html`<li>
    <div class=${`node ${counted ? 'counted' : 'cut'}`}>
      <strong>${n.account}</strong> <code>${n.sku}</code>
      <span>own ${inf(n.own)}</span>
      <span>third-party ${inf(n.third)}</span>
      ${top ? html`<span>price ${money(n.price)}</span>` : html`<span>counted ${qty(n.quantity, n.unlimited)}</span>`}
      <span class="verdict">${top ? (n.gated ? 'gated: must hold own stock, offers nothing' : 'offers') : n.included ? 'counted' : 'not counted'}</span>
      ${n.reasons.length ? html`<${Reasons} reasons=${n.reasons} />` : ''}
    </div>
    ${n.sources && n.sources.length ? html`<ul>${n.sources.map((s) => html`<${Node} key=${s.account + s.sku} n=${s} />`)}</ul>` : ''}
  </li>`;
}

/** The answer in one paragraph: the offer's reasons, then where in the tree each applies. */
function Answer({ o }) {
  if (o.sellable) return html`<p class="answer yes">Sellable: ${qty(o.quantity, o.unlimited)} units from ${o.seller}.</p>`;
  const where = blocks(o.path);
  return html`<p class="answer no">Not sellable from ${o.seller}: ${o.reasons.map((r) => html`<code>${r}</code> (${reasonText(r)}). `)}
    ${o.path.gated ? html`<span class="blocked-at">At <strong>${o.path.account}</strong>: gated, it must hold stock of its own to resell and holds ${inf(o.path.own)}.</span>` : ''}
    ${where.map((b) => html`<span class="blocked-at">At <strong>${b.account}</strong>: ${b.reasons.map((r) => html`<code>${r}</code> `)}</span>`)}</p>`;
}

export function Explain({ account, sku, tick, onClose }) {
  const { data, error } = useLoad(() => get(`${acct(account)}/offers/${enc(sku)}/explain`), [account, sku, tick]);
  return html`<section class="explain card" aria-labelledby="explain-h">
    <h3 id="explain-h">Why ${sku} is (not) showing at ${account}</h3>
    <button type="button" class="close" onClick=${onClose}>Close</button>
    <${ErrorNote} error=${error} />
    ${(data ? data.offers : []).map((o) => html`<article key=${o.seller} class="explain-offer">
      <${Answer} o=${o} />
      <ul class="tree" aria-label=${`Paths of ${o.seller}'s offer`}><${Node} n=${o.path} top=${true} /></ul>
    </article>`)}
  </section>`;
}

export function Sent({ account, tick }) {
  const [market, setMarket] = useState('');
  const { data, error } = useLoad(() => all(`${acct(account)}/sent-offers`, 'sent_offers'), [account, tick]);
  const rows = data || [];
  const markets = [...new Set(rows.map((r) => r.marketplace))].sort();
  const shown = rows.filter((r) => !market || r.marketplace === market);
  return html`<section aria-labelledby="sent-h">
    <h2 id="sent-h">What ${account} sends</h2>
    <${ErrorNote} error=${error} />
    <label>Marketplace <select value=${market} onChange=${(e) => setMarket(e.currentTarget.value)}>
      <option value="">all</option>${markets.map((m) => html`<option value=${m}>${m}</option>`)}</select></label>
    <${Table} caption="Sent offers" head=${['Marketplace', 'Seller SKU', 'Suggestion', 'Their SKU', 'Price', 'Quantity', 'Sellable', 'Reasons']}>
      ${shown.slice(0, 1000).map((r) => html`<tr key=${r.marketplace + '/' + r.seller_sku} class=${r.sellable ? 'sellable' : 'blocked'}>
        <td>${r.marketplace}</td><td>${r.seller_sku}</td><td>${r.status || 'not sent'}</td><td>${r.sku || '—'}</td>
        <td>${money(r.price)}</td><td class="num">${qty(r.quantity, r.unlimited)}</td><td>${r.sellable ? 'yes' : 'no'}</td>
        <td><${Reasons} reasons=${r.reasons} /></td></tr>`)}
    <//>
  </section>`;
}
