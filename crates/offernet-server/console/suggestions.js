// The suggestions queue of a marketplace: pending suggestions with the SKUs they could join
// (first the matcher's own candidates, which the API gives with each pending suggestion: same
// GTIN, else same ref_id and brand; then the marketplace's SKUs found by EAN or name), approve
// into an existing SKU, approve as a new SKU, deny; the same for many at once.
import { useState } from 'preact/hooks';
import { acct, all, api, enc, get } from './api.js';
import { html, useLoad, ErrorNote, Table } from './ui.js';

const path = (account, s) => `${acct(account)}/suggestions/${enc(s.seller)}/${enc(s.seller_sku)}`;

/** The SKUs a suggestion could join: the matcher's candidates first, then a search by EAN and name. */
async function candidates(account, s) {
  const found = new Map();
  for (const id of s.candidates || []) {
    const k = await get(`${acct(account)}/skus/${enc(id)}`);
    found.set(k.id, { ...k, by: k.ean && k.ean === s.ean ? 'matcher: same EAN' : 'matcher: same ref_id and brand' });
  }
  const search = async (q) => {
    if (!q) return;
    const page = await get(`${acct(account)}/skus?limit=5&q=${enc(q.slice(0, 200))}`);
    for (const k of page.skus) if (!found.has(k.id)) found.set(k.id, { ...k, by: q === s.ean ? 'same EAN' : 'similar name' });
  };
  await search(s.ean);
  await search(s.name);
  return [...found.values()];
}

function Row({ account, s, selected, onSelect, refresh }) {
  const cands = useLoad(() => (s.status === 'pending' ? candidates(account, s) : Promise.resolve([])), [account, s.seller, s.seller_sku, s.status]);
  const [target, setTarget] = useState('');
  const [error, setError] = useState(null);
  const act = async (what, body) => {
    try {
      await api('POST', `${path(account, s)}/${what}`, body);
      setError(null);
      refresh();
    } catch (e) {
      setError(e);
    }
  };
  const id = `${s.seller}/${s.seller_sku}`;
  return html`<tr data-suggestion=${id}>
    <td><input type="checkbox" aria-label=${`Select ${id}`} checked=${selected} onChange=${(e) => onSelect(e.currentTarget.checked)} /></td>
    <td>${s.seller}</td><td>${s.seller_sku}</td><td>${s.name}<br /><small>${[s.brand, s.ean && `EAN ${s.ean}`, s.ref_id && `ref ${s.ref_id}`].filter(Boolean).join(' · ')}</small></td>
    <td>${s.status}${s.sku ? html` → <code>${s.sku}</code>` : ''}</td>
    <td>${(cands.data || []).length === 0 ? (s.status === 'pending' ? 'none found' : '') : html`<ul class="plain">${cands.data.map((k) => html`<li key=${k.id}><code>${k.id}</code> ${k.name} <small>(${k.by})</small></li>`)}</ul>`}</td>
    <td class="actions">${s.status === 'pending' ? html`
      <label>Into SKU <input aria-label=${`Into SKU for ${id}`} list=${`c-${id}`} value=${target} onInput=${(e) => setTarget(e.currentTarget.value)} size="14" /></label>
      <datalist id=${`c-${id}`}>${(cands.data || []).map((k) => html`<option value=${k.id} />`)}</datalist>
      <button type="button" disabled=${!target} onClick=${() => act('approve', { sku: target })}>Approve into</button>
      <button type="button" onClick=${() => act('approve', { sku: `${s.seller}-${s.seller_sku}` })}>Approve as new</button>
      <button type="button" class="danger" onClick=${() => act('deny', {})}>Deny</button>`
      : s.status === 'approved' ? html`<button type="button" class="danger" onClick=${() => act('deny', {})}>Unbind (deny)</button>` : ''}
      <${ErrorNote} error=${error} /></td>
  </tr>`;
}

export function Suggestions({ account, tick, refresh }) {
  const [status, setStatus] = useState('pending');
  const [picked, setPicked] = useState({});
  const [error, setError] = useState(null);
  const { data, error: loadError } = useLoad(() => all(`${acct(account)}/suggestions${status ? `?status=${status}` : ''}`, 'suggestions'), [account, tick, status]);
  const rows = data || [];
  const chosen = rows.filter((s) => picked[`${s.seller}/${s.seller_sku}`]);
  const bulk = async (what) => {
    setError(null);
    for (const s of chosen) {
      try {
        await api('POST', `${path(account, s)}/${what}`, {});
      } catch (e) {
        setError(e);
        break;
      }
    }
    setPicked({});
    refresh();
  };
  return html`<section aria-labelledby="sugg-h">
    <h2 id="sugg-h">Suggestions at ${account}</h2>
    <${ErrorNote} error=${loadError || error} />
    <div class="filters">
      <label>Status <select value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
        ${['pending', 'approved', 'denied', ''].map((v) => html`<option value=${v}>${v || 'all'}</option>`)}</select></label>
      <button type="button" disabled=${chosen.length === 0} onClick=${() => bulk('approve')}>Approve ${chosen.length} selected (matcher decides)</button>
      <button type="button" class="danger" disabled=${chosen.length === 0} onClick=${() => bulk('deny')}>Deny ${chosen.length} selected</button>
    </div>
    <p>${rows.length} ${status || ''} suggestion${rows.length === 1 ? '' : 's'}.</p>
    <${Table} caption="Suggestions" head=${['', 'Seller', 'Seller SKU', 'Item', 'Status', 'Could join', 'Action']}>
      ${rows.slice(0, 300).map((s) => {
        const id = `${s.seller}/${s.seller_sku}`;
        return html`<${Row} key=${id} account=${account} s=${s} refresh=${refresh} selected=${!!picked[id]}
          onSelect=${(v) => setPicked((p) => ({ ...p, [id]: v }))} />`;
      })}
    <//>
  </section>`;
}
