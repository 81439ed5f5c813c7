// Catalog, stock and prices (search, inline edits that show the offers they changed),
// connections (both halves, resale, own stock), and the operator's accounts.
import { useState } from 'preact/hooks';
import { acct, all, api, enc, get } from './api.js';
import { html, useLoad, ErrorNote, Form, Table, money, qty } from './ui.js';

/** What a SKU's offers are now: here (as a marketplace) and where the account sends it. */
async function offersNow(account, sku) {
  const out = [];
  const here = await get(`${acct(account)}/offers/${enc(sku)}`).catch(() => null);
  for (const o of (here && here.offers) || []) out.push(`here from ${o.seller}: ${o.sellable ? `sellable, ${qty(o.quantity, o.unlimited)}` : `not sellable (${o.reasons.join(', ')})`}`);
  const sent = await all(`${acct(account)}/sent-offers`, 'sent_offers').catch(() => []);
  for (const s of sent.filter((s) => s.seller_sku === sku)) out.push(`at ${s.marketplace}: ${s.sellable ? `sellable, ${qty(s.quantity, s.unlimited)}` : `not sellable (${s.reasons.join(', ') || s.status || 'not sent'})`}`);
  return out;
}

function SkuRow({ account, k, warehouses, refresh }) {
  const [price, setPrice] = useState(null);
  const [stock, setStock] = useState({});
  const [error, setError] = useState(null);
  const [now, setNow] = useState(null);
  const save = async (what) => {
    try {
      if (what === 'price') await api('PUT', `${acct(account)}/prices/${enc(k.id)}`, { price: Number(price) });
      else await api('PUT', `${acct(account)}/warehouses/${enc(what)}/stock/${enc(k.id)}`, { quantity: Number(stock[what]) });
      setError(null);
      setNow(await offersNow(account, k.id));
      refresh();
    } catch (e) {
      setError(e);
    }
  };
  const stockOf = (w) => k.stock.find((s) => s.warehouse === w);
  return html`<tr data-sku=${k.id}>
    <td><code>${k.id}</code></td><td>${k.name}<br /><small>${[k.brand, k.ean].filter(Boolean).join(' · ')}</small></td>
    <td><form class="inline" onSubmit=${(e) => (e.preventDefault(), save('price'))}>
      <label><span class="sr">Price of ${k.id} (minor units)</span>
      <input type="number" min="0" step="1" size="8" aria-label=${`Price of ${k.id}`} value=${price ?? k.price ?? ''} onInput=${(e) => setPrice(e.currentTarget.value)} /></label>
      <button type="submit" disabled=${price === null}>Save</button> <small>${money(k.price)}</small></form></td>
    <td>${warehouses.map((w) => {
      const s = stockOf(w);
      return html`<form key=${w} class="inline" onSubmit=${(e) => (e.preventDefault(), save(w))}>
        <label>${w} <input type="number" min="0" step="1" size="6" aria-label=${`Stock of ${k.id} in ${w}`}
          value=${stock[w] ?? (s ? s.quantity ?? '' : '')} onInput=${(e) => setStock({ ...stock, [w]: e.currentTarget.value })} /></label>
        <button type="submit" disabled=${stock[w] === undefined}>Save</button>
        <small>${s ? `${qty(s.quantity, s.unlimited)}, ${s.reserved} reserved` : 'none'}</small></form>`;
    })}</td>
    <td><${ErrorNote} error=${error} />${now ? html`<ul class="plain now" role="status" aria-label=${`Offers of ${k.id} now`}>${now.length ? now.map((l) => html`<li>${l}</li>`) : html`<li>no offers</li>`}</ul>` : ''}</td>
  </tr>`;
}

export function Catalog({ account, tick, refresh }) {
  const [q, setQ] = useState('');
  const skus = useLoad(() => get(`${acct(account)}/skus?limit=200${q ? `&q=${enc(q)}` : ''}`), [account, tick, q]);
  const whs = useLoad(() => all(`${acct(account)}/warehouses`, 'warehouses'), [account, tick]);
  const warehouses = (whs.data || []).map((w) => w.id);
  return html`<section aria-labelledby="cat-h">
    <h2 id="cat-h">Catalog, stock and prices of ${account}</h2>
    <label>Search (name, brand or EAN) <input type="search" value=${q} onInput=${(e) => setQ(e.currentTarget.value)} /></label>
    <${ErrorNote} error=${skus.error || whs.error} />
    <p>${skus.data ? `${skus.data.total} SKUs` : ''}</p>
    <${Table} caption="SKUs" head=${['SKU', 'Item', 'Price', 'Stock per warehouse', 'Offers after the change']}>
      ${(skus.data ? skus.data.skus : []).map((k) => html`<${SkuRow} key=${k.id} account=${account} k=${k} warehouses=${warehouses} refresh=${refresh} />`)}
    <//>
    <div class="forms">
      <${Form} label="Create or replace a SKU" submit="Save SKU" fields=${[
        { name: 'id', label: 'SKU id', required: true }, { name: 'name', label: 'Name', required: true },
        { name: 'brand', label: 'Brand' }, { name: 'ean', label: 'EAN' }]}
        run=${(v) => api('PUT', `${acct(account)}/skus/${enc(v.id)}`, { name: v.name, brand: v.brand || null, ean: v.ean || null }).then(refresh)} />
      <${Form} label="Create or replace a warehouse" submit="Save warehouse" fields=${[
        { name: 'id', label: 'Warehouse id', required: true }, { name: 'tps', label: 'Trade policies (comma-separated)', value: '1' }]}
        run=${(v) => api('PUT', `${acct(account)}/warehouses/${enc(v.id)}`, { trade_policies: v.tps.split(',').map((s) => s.trim()).filter(Boolean) }).then(refresh)} />
    </div>
  </section>`;
}

const half = (x) => (!x ? 'missing' : x.active ? 'active' : 'paused');
const resale = (r) => (Array.isArray(r) ? r.join(', ') || 'none' : r);

export function Connections({ account, tick, refresh }) {
  const affs = useLoad(() => all(`${acct(account)}/affiliations`, 'affiliations'), [account, tick]);
  const sellers = useLoad(() => all(`${acct(account)}/sellers`, 'sellers'), [account, tick]);
  return html`<section aria-labelledby="conn-h">
    <h2 id="conn-h">Connections of ${account}</h2>
    <${ErrorNote} error=${affs.error || sellers.error} />
    <${Table} caption="Marketplaces it sells to" head=${['Marketplace', 'Its half (seller)', 'Their half', 'Trade policy', 'Resale', 'Own stock required']}>
      ${(affs.data || []).map((c) => html`<tr key=${c.marketplace}><td>${c.marketplace}</td><td>${half(c.affiliation)}</td><td>${half(c.registration)}</td>
        <td>${c.affiliation.trade_policy}</td><td>${resale(c.affiliation.resale)}</td><td>${c.affiliation.require_own_stock ? 'yes' : 'no'}</td></tr>`)}
    <//>
    <${Table} caption="Sellers it hosts" head=${['Seller', 'Its half (marketplace)', 'Their half', 'Match mode', 'Trade policies']}>
      ${(sellers.data || []).map((c) => html`<tr key=${c.seller}><td>${c.seller}</td><td>${half(c.registration)}</td><td>${half(c.affiliation)}</td>
        <td>${c.registration.match_mode}</td><td>${c.registration.trade_policies.join(', ')}</td></tr>`)}
    <//>
    <div class="forms">
      <${Form} label="Sell to a marketplace (the seller's half)" submit="Save affiliation" fields=${[
        { name: 'm', label: 'Marketplace', required: true }, { name: 'tp', label: 'Trade policy', value: '1' },
        { name: 'resale', label: 'Resale (none, all, or accounts comma-separated)', value: 'none' },
        { name: 'require_own_stock', label: 'Forwarders must hold own stock', type: 'checkbox', checked: true },
        { name: 'active', label: 'Active', type: 'checkbox', checked: true }]}
        run=${(v) => api('PUT', `${acct(account)}/affiliations/${enc(v.m)}`, {
          trade_policy: v.tp, active: v.active, require_own_stock: v.require_own_stock,
          resale: ['none', 'all'].includes(v.resale.trim()) ? v.resale.trim() : v.resale.split(',').map((s) => s.trim()).filter(Boolean),
        }).then(refresh)} />
      <${Form} label="Host a seller (the marketplace's half)" submit="Save registration" fields=${[
        { name: 's', label: 'Seller', required: true }, { name: 'match_mode', label: 'Match mode', options: ['auto', 'score', 'manual'] },
        { name: 'active', label: 'Active', type: 'checkbox', checked: true }]}
        run=${(v) => api('PUT', `${acct(account)}/sellers/${enc(v.s)}`, { match_mode: v.match_mode, active: v.active }).then(refresh)} />
    </div>
  </section>`;
}

export function Accounts({ tick, reloadAccounts }) {
  const list = useLoad(() => all('/v1/accounts', 'accounts'), [tick]);
  const [created, setCreated] = useState(null);
  return html`<section aria-labelledby="acc-h">
    <h2 id="acc-h">Accounts</h2>
    <${Form} label="Create an account" submit="Create account" done="Created. Its token is shown once below." fields=${[
      { name: 'id', label: 'Account id', required: true }, { name: 'name', label: 'Name', required: true },
      { name: 'currency', label: 'Currency', value: 'BRL' }]}
      run=${async (v) => {
        const a = await api('POST', '/v1/accounts', { id: v.id, name: v.name, currency: v.currency });
        setCreated(a);
        await reloadAccounts();
      }} />
    ${created ? html`<p class="card" role="status">Token of <strong>${created.id}</strong> (shown once): <code class="secret">${created.token}</code></p>` : ''}
    <${ErrorNote} error=${list.error} />
    <${Table} caption="Every account" head=${['Id', 'Name', 'Currency']}>
      ${(list.data || []).map((a) => html`<tr key=${a.id}><td>${a.id}</td><td>${a.name}</td><td>${a.currency}</td></tr>`)}
    <//>
  </section>`;
}
