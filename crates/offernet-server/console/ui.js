// What the views share: htm bound to Preact, loading a request's answer, forms, and the
// words for the engine's reasons.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);

/** Why an offer or a source does not count, in words (domain.md's reasons, in its order). */
export const REASONS = {
  connection_inactive: 'a half of the connection is missing or inactive',
  seller_paused: 'the seller paused its half',
  marketplace_paused: 'the marketplace paused its half',
  sku_inactive: 'the SKU is inactive',
  not_in_assortment: "the SKU is not in the trade policy's assortment",
  not_in_trade_policy: "the marketplace's trade policies do not include the seller's",
  suggestion_pending: 'the suggestion waits for approval',
  suggestion_denied: 'the suggestion was denied',
  no_price: 'no price',
  quote_stale: "the external seller's quote is older than its TTL",
  out_of_stock: 'no stock',
  forwarder_has_no_own_stock: 'a forwarder that must hold own stock holds none',
  resale_not_authorized: 'the seller did not authorise resale to this marketplace',
  loop: 'the chain loops back',
  max_depth: 'the chain is longer than max_chain',
};

export const reasonText = (r) => REASONS[r] || r;

export function Reasons({ reasons }) {
  if (!reasons || reasons.length === 0) return html`<span class="ok">none</span>`;
  return html`<ul class="reasons">${reasons.map((r) => html`<li key=${r}><code class="reason">${r}</code> <span class="why">${reasonText(r)}</span></li>`)}</ul>`;
}

export const money = (v) => (v === null || v === undefined ? '—' : (v / 100).toFixed(2));
export const qty = (q, unlimited) => (unlimited ? '∞' : q === null || q === undefined ? '—' : String(q));
export const when = (ms) => (ms ? new Date(ms).toLocaleString() : '—');

/** The answer of `load()`, loaded again whenever `deps` change; the last answer stays shown while a new one loads. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, deps);
  return state;
}

export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.code ? html`<code>${error.code}</code> ` : ''}${error.message}${error.field ? ` (field ${error.field})` : ''}</p>`;
}

/** A form that submits `run(values)` and shows its error, or `done` after success. */
export function Form({ label, fields, run, submit, done }) {
  const [error, setError] = useState(null);
  const [note, setNote] = useState(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const values = Object.fromEntries(new FormData(form).entries());
    for (const f of fields) if (f.type === 'checkbox') values[f.name] = form.elements[f.name].checked;
    setBusy(true);
    setNote(null);
    try {
      await run(values);
      setError(null);
      setNote(done || 'Saved.');
    } catch (e) {
      setError(e);
      setNote(null);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="card" aria-label=${label} onSubmit=${onSubmit}>
    <h3>${label}</h3>
    <div class="fields">
    ${fields.map((f) => html`<label key=${f.name} class=${f.type === 'checkbox' ? 'check' : ''}>
      <span>${f.label}</span>
      ${f.options
        ? html`<select name=${f.name} aria-label=${f.label}>${f.options.map((o) => html`<option value=${o}>${o}</option>`)}</select>`
        : html`<input name=${f.name} aria-label=${f.label} type=${f.type || 'text'} defaultValue=${f.value} defaultChecked=${f.checked} required=${f.required} placeholder=${f.placeholder || ''} />`}
    </label>`)}
    </div>
    <button type="submit" disabled=${busy}>${submit || 'Save'}</button>
    <${ErrorNote} error=${error} />
    ${note ? html`<p class="note" role="status">${note}</p>` : ''}
  </form>`;
}

/** A table that scrolls sideways on a narrow screen instead of overflowing the page. */
export function Table({ caption, head, children }) {
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${caption}>
    <table><caption>${caption}</caption><thead><tr>${head.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
    <tbody>${children}</tbody></table></div>`;
}
