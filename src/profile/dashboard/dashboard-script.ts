/**
 * The page's only script, inlined under the CSP nonce: shows times in the reader's zone and keeps
 * `<main>` (and the header totals) fresh by refetching the page. Without it the page still reads in UTC.
 * When the refetched page is a different one (the session ended and the login page came back), it reloads
 * so the reader sees why.
 */
export const DASHBOARD_SCRIPT = `(() => {
  const localise = (root) => {
    for (const t of root.querySelectorAll('time[datetime]')) {
      const d = new Date(t.getAttribute('datetime'));
      if (Number.isNaN(d.getTime())) continue;
      const show = t.dataset.show;
      const opts = { hour: '2-digit', minute: '2-digit' };
      if (show === 'seconds') opts.second = '2-digit';
      if (show === 'date') Object.assign(opts, { year: 'numeric', month: 'short', day: 'numeric' });
      t.title = t.textContent;
      t.textContent = d.toLocaleString([], opts);
    }
  };
  const refresh = async () => {
    try {
      const res = await fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } });
      if (!res.ok) return;
      // The parsed copy inherits this page's CSP, and its stylesheet's fresh nonce would log a violation.
      const text = (await res.text()).replace(/<style[^>]*>[\\s\\S]*?<\\/style>/, '');
      const doc = new DOMParser().parseFromString(text, 'text/html');
      const fresh = doc.querySelector('main');
      const old = document.querySelector('main');
      if (!fresh || !old) return;
      if (fresh.id !== old.id) return location.reload();
      for (const [now, next] of [[old, fresh], [document.getElementById('totals'), doc.getElementById('totals')]]) {
        if (now && next) { now.replaceWith(next); localise(next); }
      }
    } catch { /* offline or restarting: the next tick tries again */ }
  };
  let timer;
  const start = () => { if (timer === undefined) timer = setInterval(refresh, 15000); };
  const stop = () => { clearInterval(timer); timer = undefined; };
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return stop();
    refresh();
    start();
  });
  localise(document);
  if (!document.hidden) start();
})();
`;
