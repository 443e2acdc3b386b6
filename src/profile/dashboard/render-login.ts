import { html, renderPage } from './html.js';

/** The token form; `login` resolves to `<prefix>/login` both from `<prefix>/` and from `<prefix>/login`. */
export function renderLogin(options: { nonce: string; failed: boolean }): string {
  const body = html`<main id="login" class="login">
<h1>agent-mapreduce</h1>
${options.failed && html`<p class="error" role="alert">That token is not right.</p>`}
<form method="post" action="login">
<label>Dashboard token <input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Open the dashboard</button>
</form>
</main>`;
  return renderPage({ nonce: options.nonce, title: 'Sign in · agent-mapreduce', body });
}
