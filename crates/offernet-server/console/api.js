// The console's only way to the server: the public /v1 API with the signed-in token in the
// Authorization header. The token lives in this tab's sessionStorage, never in a URL or a log.

const KEY = 'offernet.console.token';

export const session = {
  token: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

export const enc = encodeURIComponent;
export const acct = (a) => `/v1/accounts/${enc(a)}`;

/** An error answer of the API: its status, code, field and message. */
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `the server answered ${status}`);
    this.status = status;
    this.code = e.code || null;
    this.field = e.field || null;
  }
}

function headers(extra) {
  return Object.assign({ Authorization: `Bearer ${session.token()}` }, extra);
}

/** One request: the JSON answer, null for 204, an ApiError otherwise. */
export async function api(method, path, body) {
  const init = { method, headers: headers(), cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 204) return null;
  const j = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, j);
  return j;
}

export const get = (path) => api('GET', path);

/** Every page of a list (`key` names its items), at most `max` items. */
export async function all(path, key, max = 20000) {
  const out = [];
  let offset = 0;
  const sep = path.includes('?') ? '&' : '?';
  while (offset !== null && out.length < max) {
    const page = await get(`${path}${sep}limit=1000&offset=${offset}`);
    out.push(...page[key]);
    offset = page.next_offset;
  }
  return out;
}

/** Who the token is: the operator (it may list accounts) or the account its prefix names. */
export async function whoami() {
  try {
    await get('/v1/accounts?limit=1');
    return { operator: true, account: null };
  } catch (e) {
    if (e.status !== 403) throw e;
  }
  const account = session.token().split('.')[0];
  await get(acct(account));
  return { operator: false, account };
}

function parseMessage(block) {
  const m = { id: null, event: 'message', data: '' };
  for (const line of block.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const field = line.slice(0, i);
    let value = line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') m.data += (m.data ? '\n' : '') + value;
    else if (field === 'id') m.id = value;
    else if (field === 'event') m.event = value;
  }
  return m;
}

/**
 * Follows an account's event stream: fetch() with the Authorization header (EventSource
 * cannot send one, and the token must never be in a URL), reading the text/event-stream body.
 * Reconnects from the last sequence number seen, with backoff; a `resume` message or a 410
 * moves on to where the history is complete. Returns a function that stops it.
 */
export function follow(account, onEvent, onState) {
  const ctrl = new AbortController();
  let after = 'now';
  let stopped = false;
  const wait = (ms) => new Promise((ok) => setTimeout(ok, ms));
  (async () => {
    let delay = 500;
    while (!stopped) {
      try {
        onState('connecting');
        const r = await fetch(`${acct(account)}/events?after=${after}`, {
          headers: headers({ Accept: 'text/event-stream' }), signal: ctrl.signal, cache: 'no-store',
        });
        if (r.status === 410) {
          after = String((await r.json()).resume_after);
          continue;
        }
        if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
        onState('live');
        delay = 500;
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf = (buf + value).replace(/\r\n?/g, '\n');
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const m = parseMessage(buf.slice(0, i));
            buf = buf.slice(i + 2);
            if (m.event === 'resume') after = String(JSON.parse(m.data).after);
            else if (m.data) {
              onEvent(JSON.parse(m.data));
              if (m.id) after = m.id;
            }
          }
        }
      } catch (e) {
        if (stopped) return;
        if (e.status === 401 || e.status === 403) {
          onState('refused');
          return;
        }
      }
      if (stopped) return;
      onState('reconnecting');
      await wait(delay);
      delay = Math.min(delay * 2, 5000);
    }
  })();
  return () => {
    stopped = true;
    ctrl.abort();
  };
}
