// Orders: the account's orders filtered by role and status; one order as a tree (the
// marketplace order, its seller orders, their chain orders) with reservations and expiry, and
// the actions the account may take on each part.
import { useState } from 'preact/hooks';
import { acct, all, api, enc } from './api.js';
import { html, useLoad, ErrorNote, Table, money, when } from './ui.js';

function Items({ items }) {
  return html`<ul class="plain">${items.map((i) => html`<li key=${i.sku + (i.seller || '')}>${i.quantity} × <code>${i.sku}</code> at ${money(i.price)}
    ${i.seller ? ` from ${i.seller}` : ''}${i.reserved_own !== undefined ? ` (${i.reserved_own} from own warehouses, ${i.quantity - i.reserved_own} from chain orders)` : ''}</li>`)}</ul>`;
}

function Part({ account, o, act }) {
  const mine = o.seller === account;
  return html`<li><div class="node">
    <strong>${o.seller}</strong> sells to ${o.buyer}: <code>${o.id}</code> <span class=${`status ${o.status}`}>${o.status}</span>
    <${Items} items=${o.items} />
    ${mine && o.status === 'authorized' ? html`<button type="button" onClick=${() => act(o.id, 'invoice')}>Invoice ${o.id}</button>` : ''}
    ${mine && (o.status === 'reserved' || o.status === 'authorized') ? html`<button type="button" class="danger" onClick=${() => act(o.id, 'cancel')}>Cancel ${o.id}</button>` : ''}
  </div>
  ${o.chain_orders.length ? html`<ul>${o.chain_orders.map((c) => html`<${Part} key=${c.id} account=${account} o=${c} act=${act} />`)}</ul>` : ''}</li>`;
}

function Tree({ account, o, act }) {
  if (o.seller_orders) {
    const mine = o.marketplace === account;
    return html`<ul class="tree" aria-label=${`Order ${o.id}`}><li><div class="node">
      <strong>${o.marketplace}</strong>'s order <code>${o.id}</code> <span class=${`status ${o.status}`}>${o.status}</span>
      <br /><small>created ${when(o.created_ms)}${o.status === 'reserved' ? `, reservations expire ${when(o.expires_ms)}` : ''}</small>
      <${Items} items=${o.items} />
      ${mine && o.status === 'reserved' ? html`<button type="button" onClick=${() => act(o.id, 'authorize')}>Authorize ${o.id}</button>` : ''}
      ${mine && (o.status === 'reserved' || o.status === 'authorized') ? html`<button type="button" class="danger" onClick=${() => act(o.id, 'cancel')}>Cancel ${o.id}</button>` : ''}
    </div><ul>${o.seller_orders.map((s) => html`<${Part} key=${s.id} account=${account} o=${s} act=${act} />`)}</ul></li></ul>`;
  }
  return html`<ul class="tree"><${Part} account=${account} o=${o} act=${act} /></ul>`;
}

export function Orders({ account, tick, refresh }) {
  const [role, setRole] = useState('');
  const [status, setStatus] = useState('');
  const [open, setOpen] = useState(null);
  const [error, setError] = useState(null);
  const qs = [role && `role=${role}`, status && `status=${status}`].filter(Boolean).join('&');
  const { data, error: loadError } = useLoad(() => all(`${acct(account)}/orders${qs ? `?${qs}` : ''}`, 'orders'), [account, tick, qs]);
  const orders = (data || []).slice().reverse();
  const act = async (id, what) => {
    try {
      await api('POST', `${acct(account)}/orders/${enc(id)}/${what}`, {});
      setError(null);
      refresh();
    } catch (e) {
      setError(e);
    }
  };
  const shown = orders.find((o) => o.id === open);
  return html`<section aria-labelledby="ord-h">
    <h2 id="ord-h">Orders of ${account}</h2>
    <div class="filters">
      <label>Role <select value=${role} onChange=${(e) => setRole(e.currentTarget.value)}>
        ${['', 'marketplace', 'seller'].map((v) => html`<option value=${v}>${v || 'both'}</option>`)}</select></label>
      <label>Status <select value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
        ${['', 'reserved', 'authorized', 'invoiced', 'cancelled', 'expired'].map((v) => html`<option value=${v}>${v || 'any'}</option>`)}</select></label>
    </div>
    <${ErrorNote} error=${loadError || error} />
    <${Table} caption="Orders" head=${['Order', 'As', 'Status', 'Items', '']}>
      ${orders.slice(0, 500).map((o) => html`<tr key=${o.id} data-order=${o.id}><td><code>${o.id}</code></td>
        <td>${o.seller_orders ? 'marketplace' : `seller to ${o.buyer}`}</td><td>${o.status}</td>
        <td>${o.items.reduce((n, i) => n + i.quantity, 0)} units</td>
        <td><button type="button" onClick=${() => setOpen(o.id)}>Open</button></td></tr>`)}
    <//>
    ${shown ? html`<section class="card" aria-label=${`Order ${shown.id}`}><h3>Order ${shown.id}</h3>
      <button type="button" class="close" onClick=${() => setOpen(null)}>Close</button>
      <${Tree} account=${account} o=${shown} act=${act} /></section>` : ''}
  </section>`;
}
