/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHTML(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
  font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}
main{width:100%;max-width:380px;margin:24px;padding:32px;background:#fff;border-radius:12px;
  box-shadow:0 1px 3px rgba(16,24,40,.1),0 8px 24px rgba(16,24,40,.06)}
h1{margin:0 0 20px;font-size:22px;font-weight:650}
label{display:block;margin:14px 0 6px;font-size:14px;font-weight:600;color:#3a4152}
input[type=text],input[type=password]{width:100%;padding:10px 12px;font:inherit;border:1px solid #cfd4dc;border-radius:8px}
input:focus{outline:2px solid #3b6ef5;outline-offset:1px;border-color:#3b6ef5}
button{width:100%;margin-top:22px;padding:11px;font:inherit;font-weight:600;color:#fff;background:#3b6ef5;border:0;border-radius:8px;cursor:pointer}
button:hover{background:#2f5ad0}
.error{margin:0 0 8px;padding:10px 12px;font-size:14px;color:#8a1c1c;background:#fdecec;border-radius:8px}
.muted{margin-top:18px;font-size:13px;color:#6b7280;text-align:center}
a{color:#3b6ef5}
.provider{display:block;margin-top:12px;padding:10px;text-align:center;font-weight:600;text-decoration:none;border:1px solid #cfd4dc;border-radius:8px}
`

/** A minimal, self-contained page (no external assets, so a strict CSP works). */
export function renderPage(args: { title: string; body: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHTML(args.title)}</title><style>${STYLE}</style></head>
<body><main>${args.body}</main></body></html>`
}

/** What a login page is rendered from. A replacement page must post these fields back. */
export interface LoginPageArgs {
  /** The form's hidden `csrf` field. */
  readonly csrfToken: string
  /** The form's hidden `next` field, already sanitized. */
  readonly next: string
  /** A generic message to show (wrong password, throttled, provider sign-in failed). */
  readonly error?: string | undefined
  /** The username to fill in again after a failure. */
  readonly username?: string | undefined
  /** "Sign in with …" links of identity providers. */
  readonly providers: ReadonlyArray<{ readonly label: string; readonly href: string }>
}

/** The login form. The form posts `username`, `password`, `csrf` and `next` to its own URL. */
export function renderLoginPage(args: LoginPageArgs): string {
  const error = args.error ? `<p class="error" role="alert">${escapeHTML(args.error)}</p>` : ''
  const providers = args.providers.map(({ label, href }) => `<a class="provider" href="${escapeHTML(href)}">Sign in with ${escapeHTML(label)}</a>`).join('\n')
  return renderPage({
    title: 'Sign in',
    body: `<h1>Sign in</h1>${error}
<form method="post" autocomplete="on">
<input type="hidden" name="csrf" value="${escapeHTML(args.csrfToken)}">
<input type="hidden" name="next" value="${escapeHTML(args.next)}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" required autofocus value="${escapeHTML(args.username ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
${providers}
<p class="muted">Protected by Gatehouse</p>`,
  })
}
