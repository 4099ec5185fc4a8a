// HTML of the stand-in's pages, shaped like FusionAuth's default theme
// (oauth2Authorize.ftl, oauth2Logout.ftl): same field ids and names, same
// texts as FusionAuth 1.64 and later. Texts change between FusionAuth
// versions: tests find the fields by id, never by title or placeholder.

export function escapeHtml(value) {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
    font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f4f6fa; color: #1c2430; }
  main { width: min(24rem, 92vw); background: #fff; border-radius: 10px; padding: 2rem 2rem 1.5rem;
    box-shadow: 0 10px 30px rgba(20, 30, 60, .12); }
  h1 { margin: 0 0 1.25rem; font-size: 1.4rem; font-weight: 600; }
  .brand { font-size: .8rem; letter-spacing: .08em; text-transform: uppercase; color: #f58320; margin: 0 0 .25rem; }
  label { display: block; font-size: .85rem; font-weight: 600; margin: .9rem 0 .3rem; }
  input[type=text], input[type=email], input[type=password] { width: 100%; padding: .6rem .75rem;
    border: 1px solid #c8d0dc; border-radius: 6px; font: inherit; }
  input:focus { outline: 2px solid #2f6fde; outline-offset: 1px; }
  .checkbox { display: flex; gap: .5rem; align-items: center; font-weight: 400; }
  button { margin-top: 1.25rem; width: 100%; padding: .7rem; border: 0; border-radius: 6px; background: #2f6fde;
    color: #fff; font: inherit; font-weight: 600; cursor: pointer; }
  button:hover { background: #2458b5; }
  .alert { margin: 0 0 1rem; padding: .6rem .75rem; border-radius: 6px; background: #fdecec; color: #9b1c1c;
    border: 1px solid #f5c2c2; }
  .muted { color: #5b6577; font-size: .85rem; }
  .frontchannel { position: absolute; width: 0; height: 0; border: 0; visibility: hidden; }
`;

function page(title, body, { head = '' } = {}) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>${head ? `\n${head}` : ''}
</head>
<body>
<main>
<p class="brand">FusionAuth stand-in</p>
${body}
</main>
</body>
</html>`;
}

/** The hosted login page. `error` is shown above the form when set. */
export function loginPage({ action, loginId = '', error, clientName }) {
  const alert = error ? `<p class="alert" role="alert">${escapeHtml(error)}</p>` : '';
  // FusionAuth's title is "Login" since 1.64 and the placeholder "Login" since
  // about 1.59 (before: "Login | FusionAuth" and "Email").
  return page('Login', `
<h1>Login</h1>
${clientName ? `<p class="muted">to continue to ${escapeHtml(clientName)}</p>` : ''}
${alert}
<form id="login-form" method="post" action="${escapeHtml(action)}">
  <label for="loginId">Email</label>
  <input id="loginId" name="loginId" type="text" placeholder="Login" autocomplete="username"
    autocapitalize="none" autocorrect="off" spellcheck="false" required value="${escapeHtml(loginId)}"${error ? '' : ' autofocus'}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" placeholder="Password" autocomplete="current-password" required${error ? ' autofocus' : ''}>
  <label class="checkbox" for="rememberDevice">
    <input id="rememberDevice" name="rememberDevice" type="checkbox" value="true"> Keep me signed in
  </label>
  <button id="submit-button" type="submit">Submit</button>
</form>`);
}

/** Seconds FusionAuth's logout page waits before its meta refresh (oauth2Logout.ftl). */
const LOGOUT_REFRESH_SECONDS = 2;

/**
 * FusionAuth's logout page (logoutBehavior AllApplications): says "Logging
 * out…", loads every application's logout URL in a hidden iframe
 * (front-channel logout), then a meta refresh moves on to `target`. Moving
 * on needs no JavaScript (FusionAuth's theme only animates a progress bar
 * with it), so logout works with scripts off too.
 */
export function logoutPage({ target, frontChannelUrls }) {
  const iframes = frontChannelUrls.map((url) => `<iframe class="frontchannel" title="Front-channel logout" src="${escapeHtml(url)}" aria-hidden="true" tabindex="-1"></iframe>`);
  const refresh = `<meta http-equiv="refresh" content="${LOGOUT_REFRESH_SECONDS}; url=${escapeHtml(target)}">`;
  return page('Logout | FusionAuth', `
<h1>Logging out…</h1>
<p class="muted" aria-live="polite">Please wait while you are signed out.</p>
${iframes.join('\n')}`, { head: refresh });
}

/** Error page for oidc-provider's renderError (never shows a token). */
export function errorPage({ error, description }) {
  return page('Error | FusionAuth', `
<h1>Something went wrong</h1>
<p class="alert" role="alert">${escapeHtml(description || error || 'The request could not be completed.')}</p>
${error ? `<p class="muted">Error code: <code>${escapeHtml(error)}</code></p>` : ''}`);
}
