// The console's shell: sign-in, the account being looked at (the operator may switch), the
// pages (chosen by the URL's #fragment, which never holds the token), and the live event
// stream that makes every page load again when something changes, with an activity feed.
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { all, follow, session, whoami } from './api.js';
import { html, ErrorNote } from './ui.js';
import { Network } from './network.js';
import { Offers, Sent } from './offers.js';
import { Suggestions } from './suggestions.js';
import { Catalog, Connections, Accounts } from './catalog.js';
import { Orders } from './orders.js';

const PAGES = [
  ['network', 'Network'],
  ['offers', 'Offers'],
  ['sent', 'What I send'],
  ['suggestions', 'Suggestions'],
  ['catalog', 'Catalog, stock, prices'],
  ['connections', 'Connections'],
  ['orders', 'Orders'],
  ['activity', 'Activity'],
];

const pageOf = () => (location.hash.replace(/^#\/?/, '') || 'network').split('/')[0];

function SignIn({ onSignedIn }) {
  const [error, setError] = useState(null);
  const submit = async (ev) => {
    ev.preventDefault();
    const token = ev.currentTarget.elements.token.value.trim();
    session.set(token);
    try {
      onSignedIn(await whoami());
    } catch (e) {
      session.clear();
      setError(e);
    }
  };
  return html`<main class="signin">
    <h1>offernet console</h1>
    <form onSubmit=${submit} aria-label="Sign in">
      <label for="token">Account or operator token</label>
      <input id="token" name="token" type="password" autocomplete="off" required autofocus />
      <p class="hint">Kept in this tab only (session storage), sent only to this server in the Authorization header.</p>
      <button type="submit">Sign in</button>
      <${ErrorNote} error=${error} />
    </form>
  </main>`;
}

function Activity({ events }) {
  if (events.length === 0) return html`<p>No events since the page was opened. They appear here as they happen.</p>`;
  return html`<ol class="feed" aria-label="Events, newest first">${events.map((e) => html`<li key=${e.seq}>
    <span class="seq">#${e.seq}</span> <code>${e.type}</code> ${describe(e)}</li>`)}</ol>`;
}

function describe(e) {
  if (e.type === 'offer.changed') {
    const o = e.offer;
    const state = !o ? 'gone' : o.sellable ? `sellable, ${o.unlimited ? '∞' : o.quantity} units` : `not sellable (${o.reasons.join(', ')})`;
    return `${e.marketplace}: ${e.sku} from ${e.seller}: ${state}`;
  }
  if (e.type.startsWith('suggestion.')) return `${e.seller}'s ${e.seller_sku} at ${e.marketplace}${e.sku ? ` → ${e.sku}` : ''}`;
  return `order ${e.id} (${e.marketplace}): ${e.status}${e.by ? ` by ${e.by}` : ''}`;
}

function Shell({ who, onSignOut }) {
  const [page, setPage] = useState(pageOf());
  const [accounts, setAccounts] = useState(who.account ? [who.account] : []);
  const [account, setAccount] = useState(who.account);
  const [tick, setTick] = useState(0);
  const [events, setEvents] = useState([]);
  const [live, setLive] = useState('off');
  const timer = useRef(null);

  useEffect(() => {
    const on = () => setPage(pageOf());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);

  const reloadAccounts = useCallback(async () => {
    if (!who.operator) return;
    const list = (await all('/v1/accounts', 'accounts')).map((a) => a.id);
    setAccounts(list);
    setAccount((cur) => cur || list[0] || null);
  }, [who]);
  useEffect(() => {
    reloadAccounts();
  }, [reloadAccounts]);

  useEffect(() => {
    if (!account) return undefined;
    setEvents([]);
    return follow(
      account,
      (e) => {
        setEvents((old) => [e, ...old].slice(0, 200));
        clearTimeout(timer.current);
        timer.current = setTimeout(() => setTick((t) => t + 1), 150);
      },
      setLive,
    );
  }, [account]);

  const pages = who.operator ? [...PAGES, ['accounts', 'Accounts']] : PAGES;
  const props = { account, tick, who, accounts, refresh: () => setTick((t) => t + 1), reloadAccounts };
  const views = {
    network: Network, offers: Offers, sent: Sent, suggestions: Suggestions, catalog: Catalog,
    connections: Connections, orders: Orders, accounts: Accounts,
  };
  const View = views[page];
  return html`<div class="shell">
    <header>
      <h1>offernet console</h1>
      <div class="who">
        ${who.operator
          ? html`<label>Operator, viewing account <select aria-label="Account" value=${account || ''} onChange=${(e) => setAccount(e.currentTarget.value)}>
              ${accounts.map((a) => html`<option value=${a}>${a}</option>`)}</select></label>`
          : html`<span>Signed in as <strong>${account}</strong></span>`}
        <span class=${`live live-${live}`} role="status" aria-live="polite">events: ${live}</span>
        <button type="button" onClick=${onSignOut}>Sign out</button>
      </div>
      <nav aria-label="Pages"><ul>${pages.map(([id, label]) => html`<li key=${id}>
        <a href=${`#/${id}`} aria-current=${page === id ? 'page' : null}>${label}</a></li>`)}</ul></nav>
    </header>
    <main id="main">
      ${page === 'activity'
        ? html`<h2>Activity</h2><${Activity} events=${events} />`
        : View && (account || page === 'accounts' || page === 'network')
          ? html`<${View} key=${page === 'accounts' ? page : account} ...${props} />`
          : html`<p>No account yet. ${who.operator ? html`Create one on the <a href="#/accounts">Accounts</a> page.` : ''}</p>`}
    </main>
  </div>`;
}

function App() {
  const [who, setWho] = useState(null);
  const [checking, setChecking] = useState(!!session.token());
  useEffect(() => {
    if (!session.token()) return;
    whoami().then(setWho, () => session.clear()).finally(() => setChecking(false));
  }, []);
  if (checking) return html`<p class="loading">Signing in…</p>`;
  if (!who) return html`<${SignIn} onSignedIn=${setWho} />`;
  const signOut = () => {
    session.clear();
    setWho(null);
  };
  return html`<${Shell} who=${who} onSignOut=${signOut} />`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
