//! Security headers on every response. (The login layer guards the server functions
//! against other sites.)
//!
//! - A Content-Security-Policy built on a fresh nonce per response: Leptos puts the same
//!   nonce on the scripts it renders, so no other inline script runs (`'unsafe-inline'` is
//!   never allowed for scripts); `'wasm-unsafe-eval'` lets the wasm compile. Framing is
//!   refused everywhere except `/logout`, which FusionAuth's logout page frames (that
//!   handler sets its own policy).
//! - `nosniff`, a same-origin `Referrer-Policy` (the callback's URL carries a code), and
//!   HSTS when the app is served over https: plain tower-http header layers.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use base64::Engine as _;
use http::{header, HeaderValue};
use leptos::config::LeptosOptions;
use rand::RngCore;
use url::Url;

use crate::auth::settings::AuthSettings;

/// This response's CSP nonce, put in the request's extensions for the renderer.
#[derive(Clone, Debug)]
pub struct CspNonce(pub Arc<str>);

/// The page policy, apart from its nonce: the text before and after it.
pub struct ContentSecurityPolicy {
    before_nonce: String,
    after_nonce: String,
}

impl ContentSecurityPolicy {
    pub fn new(auth: &AuthSettings, app_url: &Url, options: &LeptosOptions) -> Self {
        // `form-action`: the Login form is redirected to the provider, the Logout form too,
        // and browsers check form redirects against this list.
        let form_action = match auth.issuer_origin() {
            Some(issuer) => format!("'self' {issuer}"),
            None => "'self'".to_owned(),
        };
        // `connect-src`: the page's own origin, and under `cargo leptos watch` (LEPTOS_WATCH)
        // its reload script's socket on the page's host name.
        let connect_src = if std::env::var_os("LEPTOS_WATCH").is_some() {
            let port = options.reload_external_port.unwrap_or(options.reload_port);
            let mut hosts = vec![
                app_url.host_str().unwrap_or("localhost"),
                "localhost",
                "127.0.0.1",
            ];
            hosts.sort_unstable();
            hosts.dedup();
            let sockets: Vec<String> = hosts.iter().map(|h| format!("ws://{h}:{port}")).collect();
            format!("'self' {}", sockets.join(" "))
        } else {
            "'self'".to_owned()
        };
        Self {
            before_nonce: "default-src 'self'; script-src 'self' 'nonce-".to_owned(),
            after_nonce: format!(
                "' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src {connect_src}; \
                 object-src 'none'; base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
            ),
        }
    }

    /// The policy for a response whose scripts carry `nonce`.
    pub fn header(&self, nonce: &str) -> Option<HeaderValue> {
        let mut policy =
            String::with_capacity(self.before_nonce.len() + nonce.len() + self.after_nonce.len());
        policy.push_str(&self.before_nonce);
        policy.push_str(nonce);
        policy.push_str(&self.after_nonce);
        HeaderValue::try_from(policy).ok()
    }
}

/// Gives each request a fresh CSP nonce and each response the policy that names it (unless
/// the handler set a policy of its own). The nonce also goes into the response's
/// extensions, for the guest-page cache outside this layer.
pub async fn content_security_policy(
    State(policy): State<Arc<ContentSecurityPolicy>>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce: Arc<str> = new_nonce().into();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    response.extensions_mut().insert(CspNonce(nonce.clone()));
    if !response
        .headers()
        .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        if let Some(value) = policy.header(&nonce) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    response
}

/// 128 random bits, base64url: the same shape as Leptos's own nonces.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Hands the request's nonce to Leptos, which puts it on every script it renders. Called
/// from the Leptos context of each page.
pub fn provide_nonce_to_leptos() {
    use leptos::prelude::{provide_context, use_context};
    let nonce = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(nonce)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}
