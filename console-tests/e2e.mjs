// End-to-end test of the web console in headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core): sign in as the operator, build the documents' example through the
// console (Seller A → Marketplace A → Marketplace B), approve Marketplace B's pending
// suggestion, see B's offer gated with forwarder_has_no_own_stock and its explain tree, stock
// Marketplace A through the API and watch the offer turn sellable without a reload, place and
// authorize an order through the API and see it appear, then sign in with an account token.
// A screenshot of each page goes to $SCREENSHOTS. Run by scripts/console-e2e.sh, which starts
// the server and sets OFFERNET_URL and OFFERNET_ADMIN_TOKEN.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.OFFERNET_URL;
const ADMIN = process.env.OFFERNET_ADMIN_TOKEN;
const SHOTS = process.env.SCREENSHOTS || '../target/console-screenshots';
assert.ok(BASE && ADMIN, 'OFFERNET_URL and OFFERNET_ADMIN_TOKEN are set');
mkdirSync(SHOTS, { recursive: true });

/** The API as another client (the test's own requests, not the console's). */
async function api(method, path, token, body) {
  const r = await fetch(BASE + path, {
    method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const profile = mkdtempSync(join(tmpdir(), 'offernet-console-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
});
const problems = [];
const watch = (page) => {
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // A refused request (the sign-in's 403 probe) is logged by Chromium itself, not by the console.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console error: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(BASE) && !r.url().startsWith('data:')) problems.push(`request to another origin: ${r.url()}`);
    if (r.url().includes(ADMIN) || /\.[0-9a-f]{64}/.test(r.url())) problems.push(`a token in a URL: ${r.url()}`);
  });
};
browser.on('page', watch);
const page = browser.pages()[0] || (await browser.newPage());
if (browser.pages().length === 1) watch(page);
await page.addInitScript(() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
});
const shot = (name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const step = (s) => console.log(`-- ${s}`);
const form = (name) => page.getByRole('form', { name });
const T = 15000;

async function fill(name, values) {
  const f = form(name);
  for (const [label, v] of Object.entries(values)) {
    const field = f.getByLabel(label, { exact: true });
    if (typeof v === 'boolean') await field.setChecked(v);
    else if ((await field.evaluate((e) => e.tagName)) === 'SELECT') await field.selectOption(v);
    else await field.fill(v);
  }
  await f.getByRole('button').click();
  await f.getByRole('status').waitFor({ timeout: T });
}
const go = async (id) => {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: id, exact: true }).click();
};
const viewAs = (a) => page.getByRole('combobox', { name: 'Account', exact: true }).selectOption(a);

try {
  step('sign in as the operator');
  await page.goto(`${BASE}/console`);
  await shot('01-sign-in');
  await page.getByLabel('Account or operator token').fill(ADMIN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor({ timeout: T });
  await go('Accounts');
  const tokens = {};
  for (const id of ['seller-a', 'marketplace-a', 'marketplace-b']) {
    await fill('Create an account', { 'Account id': id, Name: id });
    await page.locator('code.secret').getByText(`${id}.`).waitFor({ timeout: T });
    tokens[id] = await page.locator('code.secret').textContent();
  }
  await shot('02-accounts');

  step('Seller A: a SKU, a warehouse, price and stock inline, the affiliation to Marketplace A');
  await viewAs('seller-a');
  await go('Catalog, stock, prices');
  await fill('Create or replace a SKU', { 'SKU id': 'shoe-1', Name: 'Running shoe', Brand: 'Acme', EAN: '4006381333931' });
  await fill('Create or replace a warehouse', { 'Warehouse id': 'main' });
  await page.getByLabel('Price of shoe-1').fill('10000');
  await page.getByLabel('Price of shoe-1').press('Enter');
  await page.getByLabel('Stock of shoe-1 in main').fill('10');
  await page.getByLabel('Stock of shoe-1 in main').press('Enter');
  await page.locator('tr[data-sku="shoe-1"]').getByText('10, 0 reserved').waitFor({ timeout: T });
  await go('Connections');
  await fill("Sell to a marketplace (the seller's half)", { Marketplace: 'marketplace-a' });

  step('Marketplace A hosts Seller A (auto match), prices the shoe, stocks 3, sells to Marketplace B');
  await viewAs('marketplace-a');
  await fill("Host a seller (the marketplace's half)", { Seller: 'seller-a', 'Match mode': 'auto' });
  await fill("Sell to a marketplace (the seller's half)", { Marketplace: 'marketplace-b' });
  await go('Catalog, stock, prices');
  await fill('Create or replace a warehouse', { 'Warehouse id': 'store' });
  const sku = 'seller-a-shoe-1';
  await page.getByLabel(`Price of ${sku}`).fill('11000');
  await page.getByLabel(`Price of ${sku}`).press('Enter');
  await page.getByLabel(`Stock of ${sku} in store`).fill('3');
  await page.getByLabel(`Stock of ${sku} in store`).press('Enter');
  // The inline edit shows the offers it changed: here, from Seller A, sellable.
  await page.getByRole('status', { name: `Offers of ${sku} now` }).getByText('here from seller-a: sellable').waitFor({ timeout: T });
  await shot('03-catalog');

  step('Marketplace B has its own shoe SKU, hosts Marketplace A (manual match): the suggestion waits; approve it into the shoe');
  await viewAs('marketplace-b');
  await go('Catalog, stock, prices');
  await fill('Create or replace a SKU', { 'SKU id': 'running-shoe', Name: 'Running shoe', Brand: 'Acme', EAN: '4006381333931' });
  await go('Connections');
  await fill("Host a seller (the marketplace's half)", { Seller: 'marketplace-a', 'Match mode': 'manual' });
  await shot('04-connections');
  await go('Suggestions');
  const row = page.locator(`tr[data-suggestion="marketplace-a/${sku}"]`);
  await row.getByText('matcher: same EAN').waitFor({ timeout: T });
  await shot('05-suggestions');
  await row.getByLabel(`Into SKU for marketplace-a/${sku}`).fill('running-shoe');
  await row.getByRole('button', { name: 'Approve into' }).click();
  await page.getByText('0 pending suggestions').waitFor({ timeout: T });

  const bSku = 'running-shoe';
  step("Marketplace A's own stock to 0 (through the API): B's offer is gated, live");
  await go('Offers');
  await page.evaluate(() => (window.__noReload = true));
  await api('PUT', `/v1/accounts/marketplace-a/warehouses/store/stock/${sku}`, tokens['marketplace-a'], { quantity: 0 });
  const offer = page.locator(`tr[data-sku="${bSku}"][data-seller="marketplace-a"]`);
  await offer.and(page.locator('.blocked')).waitFor({ timeout: T });
  await page.getByRole('button', { name: /1 offer blocked by forwarder_has_no_own_stock/ }).waitFor({ timeout: T });
  await shot('06-offers-gated');
  await offer.getByRole('button', { name: 'Explain' }).click();
  const answer = page.locator('.explain .answer');
  await answer.getByText('forwarder_has_no_own_stock').first().waitFor({ timeout: T });
  assert.match(await answer.textContent(), /Not sellable from marketplace-a:.*forwarder_has_no_own_stock/);
  await shot('07-explain');

  step('Stock Marketplace A (through the API): the offer turns sellable without a reload');
  await api('PUT', `/v1/accounts/marketplace-a/warehouses/store/stock/${sku}`, tokens['marketplace-a'], { quantity: 3 });
  await offer.and(page.locator('.sellable')).waitFor({ timeout: T });
  await answer.getByText('Sellable: 3 units from marketplace-a.').waitFor({ timeout: T });
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was not reloaded');
  await shot('08-offers-sellable');

  step('Place and authorize an order through the API: it appears, as a tree');
  await go('Orders');
  await api('POST', '/v1/accounts/marketplace-b/orders', tokens['marketplace-b'], { id: 'o1', items: [{ sku: bSku, quantity: 2, seller: 'marketplace-a' }] });
  await api('POST', '/v1/accounts/marketplace-b/orders/o1/authorize', tokens['marketplace-b']);
  const orderRow = page.locator('tr[data-order="o1"]');
  await orderRow.getByText('authorized').waitFor({ timeout: T });
  await orderRow.getByRole('button', { name: 'Open' }).click();
  await page.getByRole('list', { name: 'Order o1' }).getByText('marketplace-a', { exact: true }).waitFor({ timeout: T });
  await shot('09-orders');
  await go('Activity');
  await page.getByText('order.authorized').first().waitFor({ timeout: T });
  await shot('10-activity');

  step('What Marketplace A sends; the network, whole and focused');
  await viewAs('marketplace-a');
  await go('What I send');
  await page.locator('tr.sellable').getByText('marketplace-b').waitFor({ timeout: T });
  await shot('11-what-i-send');
  await go('Network');
  await page.locator('svg g[data-account="marketplace-b"]').waitFor({ timeout: T });
  assert.equal(await page.locator('svg path.edge.active').count(), 2, 'two active connections');
  await shot('12-network');
  await page.locator('svg g[data-account="marketplace-a"]').focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Network around marketplace-a' }).waitFor({ timeout: T });
  await shot('13-network-focused');

  step('A thousand accounts: 960 sellers → 40 marketplaces → one hub (through the API), the whole network collapsed, search, focus');
  const started = Date.now();
  const inBatches = async (jobs) => {
    for (let i = 0; i < jobs.length; i += 16) await Promise.all(jobs.slice(i, i + 16).map((j) => j()));
  };
  const ids = [...Array(960).keys()].map((i) => `s-${String(i).padStart(3, '0')}`);
  const markets = [...Array(40).keys()].map((i) => `m-${String(i).padStart(2, '0')}`);
  await inBatches([...ids, ...markets, 'hub'].map((id) => () => api('POST', '/v1/accounts', ADMIN, { id, name: id, currency: 'BRL' })));
  const links = ids.map((s, i) => [s, markets[i % 40]]).concat(markets.map((m) => [m, 'hub']));
  await inBatches(links.map(([s, m]) => () => api('PUT', `/v1/accounts/${s}/affiliations/${m}`, ADMIN, { trade_policy: '1' })));
  await inBatches(links.map(([s, m]) => () => api('PUT', `/v1/accounts/${m}/sellers/${s}`, ADMIN, {})));
  console.log(`   1,004 accounts and ${links.length} connections written through the API in ${Date.now() - started} ms`);
  await go('Orders');
  const t0 = Date.now();
  await go('Network');
  await page.getByText('+931 more').waitFor({ timeout: T });
  console.log(`   the whole network (${links.length + 2} connections) drawn in ${Date.now() - t0} ms`);
  await page.getByLabel('Search accounts').fill('s-517');
  await page.locator('svg g.hit[data-account="s-517"]').waitFor({ timeout: T });
  await page.locator('svg g[data-account="m-37"]').waitFor({ timeout: T });
  await page.locator('tr[data-connection="s-517>m-37"]').waitFor({ timeout: T });
  await shot('16-network-thousand');
  await page.getByLabel('Search accounts').fill('');
  await page.locator('svg g[data-account="m-17"]').click();
  await page.getByRole('heading', { name: 'Network around m-17' }).waitFor({ timeout: T });
  await page.locator('svg g[data-account="hub"]').waitFor({ timeout: T });
  // The heading changes at the click; the graph keeps the whole network's connections until
  // m-17's have loaded (the hub is in both): wait for the focused graph, then count.
  const focusedNodes = 24 + 1 + 1;
  await page
    .waitForFunction((n) => document.querySelectorAll('svg g.node').length === n, focusedNodes, { timeout: T })
    .catch(() => {});
  assert.equal(await page.locator('svg g.node').count(), focusedNodes, "m-17's 24 sellers, m-17, the hub");
  await shot('17-network-thousand-focused');

  step('Sign in with Marketplace B token; a phone-sized screen');
  const csp = await page.evaluate(() => window.__csp);
  assert.deepEqual(csp, [], 'no Content-Security-Policy violation');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Account or operator token').fill(tokens['marketplace-b']);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Signed in as marketplace-b').waitFor({ timeout: T });
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
  assert.ok(!page.url().includes(tokens['marketplace-b']), 'no token in the URL');
  await page.setViewportSize({ width: 390, height: 844 });
  await go('Offers');
  await page.locator(`tr[data-sku="${bSku}"].sellable`).waitFor({ timeout: T });
  await shot('14-phone-offers');
  await go('Network');
  await page.locator('svg g[data-account="seller-a"]').waitFor({ timeout: T });
  await shot('15-phone-network');
  assert.deepEqual(problems, [], 'no page error, console error, foreign request or token in a URL');
  console.log(`console e2e passed; screenshots in ${SHOTS}`);
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(problems.join('\n'));
  throw e;
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
