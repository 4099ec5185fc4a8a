//! Logins in progress, kept in the browser: one encrypted cookie per attempt.
//!
//! As Auth.js and oauth2-proxy do it: what a callback needs (state, nonce, PKCE verifier,
//! return_to, start time) travels in an AES-256-GCM encrypted, HttpOnly, SameSite=Lax cookie
//! named after the attempt's `state`, on `Path=/callback`, for the login timeout. So:
//! - a visitor who only starts a login costs the server nothing (no session row);
//! - several tabs can log in at once, each with its own attempt;
//! - a callback finds its attempt by `state` before anything else, and a callback that
//!   matches nothing (a stray `?error=…`, a forged state) cannot spoil an attempt in progress.
//!
//! The cookie's name is bound into the encryption (it is the AEAD's associated data), so an
//! attempt's cookie cannot be replayed under another attempt's name.

use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tower_cookies::{
    cookie::{time, SameSite},
    Cookie, Cookies,
};

use super::settings::CookieSettings;

/// Attempts kept per browser: starting one more drops the oldest.
pub const MAX_ATTEMPTS: usize = 3;

/// What a started login needs at its callback.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The OAuth `state` sent to the provider.
    pub state: String,
    /// The OIDC `nonce` the id_token must carry.
    pub nonce: String,
    /// The PKCE code verifier the token request proves the login with.
    pub pkce_verifier: String,
    /// A path on this site, already checked by `return_to::sanitize`.
    pub return_to: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("return_to", &self.return_to)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// What a callback's `state` found in the browser.
pub enum Lookup {
    /// The attempt this state belongs to; its cookie is removed in this response.
    Found(PendingLogin),
    /// Attempts exist in this browser, none for this state.
    OtherAttempts,
    /// No attempt at all in this browser.
    Nothing,
}

/// The pending-login cookies of one browser.
pub struct PendingLogins<'a> {
    settings: &'a CookieSettings,
    /// How long the cookie lives: the login timeout and a margin, so that the server, not the
    /// browser, decides when an attempt has expired (and can say so).
    lifetime: Duration,
}

impl<'a> PendingLogins<'a> {
    /// The cookies as `settings` names them, for logins that may take `login_timeout`.
    pub fn new(settings: &'a CookieSettings, login_timeout: Duration) -> Self {
        Self {
            settings,
            lifetime: login_timeout + Duration::from_secs(60),
        }
    }

    /// Records a started login in the browser, dropping the oldest attempts beyond
    /// [`MAX_ATTEMPTS`].
    pub fn begin(
        &self,
        cookies: &Cookies,
        pending: &PendingLogin,
    ) -> Result<(), serde_json::Error> {
        let value = serde_json::to_string(pending)?;
        let id = attempt_id(&pending.state);
        let mut ids = self.index(cookies);
        ids.retain(|known| *known != id);
        ids.push(id.clone());
        let excess = ids.len().saturating_sub(MAX_ATTEMPTS);
        for old in ids.drain(..excess) {
            cookies.add(self.removal(self.cookie_name(&old), self.callback_path()));
        }
        cookies
            .private(&self.settings.pending_login_key)
            .add(self.cookie(self.cookie_name(&id), value, self.callback_path()));
        cookies.add(self.cookie(
            self.settings.pending_index_name(),
            ids.join("."),
            self.login_path(),
        ));
        Ok(())
    }

    /// Finds the attempt `state` belongs to. A found attempt's cookie is removed in this
    /// response, whatever happens next: an attempt is used once.
    pub fn take(&self, cookies: &Cookies, state: &str) -> Lookup {
        let name = self.cookie_name(&attempt_id(state));
        if cookies.get(&name).is_none() {
            let prefix = self.settings.pending_prefix();
            return if cookies.list().iter().any(|c| c.name().starts_with(&prefix)) {
                Lookup::OtherAttempts
            } else {
                Lookup::Nothing
            };
        }
        let opened = cookies
            .private(&self.settings.pending_login_key)
            .get(&name)
            .or_else(|| {
                let previous = self.settings.previous_pending_login_key.as_ref()?;
                cookies.private(previous).get(&name)
            });
        cookies.add(self.removal(name, self.callback_path()));
        // The list only bounds attempts; once one comes back, drop it rather than leave
        // bookkeeping in the browser (at worst a pending tab is no longer counted).
        cookies.add(self.removal(self.settings.pending_index_name(), self.login_path()));
        let Some(cookie) = opened else {
            tracing::warn!(
                "pending-login cookie does not decrypt (tampered, or APP_SECRET_KEY changed)"
            );
            return Lookup::OtherAttempts;
        };
        match serde_json::from_str::<PendingLogin>(cookie.value()) {
            Ok(pending) if bool::from(pending.state.as_bytes().ct_eq(state.as_bytes())) => {
                Lookup::Found(pending)
            }
            Ok(_) => {
                tracing::warn!("pending-login cookie holds another state");
                Lookup::OtherAttempts
            }
            Err(e) => {
                tracing::warn!(error = %e, "pending-login cookie of an unknown shape");
                Lookup::OtherAttempts
            }
        }
    }

    fn callback_path(&self) -> String {
        self.settings.callback_path.clone()
    }

    fn login_path(&self) -> String {
        self.settings.login_path.clone()
    }

    fn cookie_name(&self, id: &str) -> String {
        format!("{}{id}", self.settings.pending_prefix())
    }

    /// The attempt ids this browser says it holds (only well-formed ones count).
    fn index(&self, cookies: &Cookies) -> Vec<String> {
        cookies
            .get(&self.settings.pending_index_name())
            .map(|c| {
                c.value()
                    .split('.')
                    .filter(|id| is_attempt_id(id))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn cookie(&self, name: String, value: String, path: String) -> Cookie<'static> {
        let max_age =
            time::Duration::seconds(self.lifetime.as_secs().try_into().unwrap_or(i64::MAX));
        Cookie::build((name, value))
            .path(path)
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.settings.secure)
            .max_age(max_age)
            .build()
    }

    fn removal(&self, name: String, path: String) -> Cookie<'static> {
        let mut cookie = self.cookie(name, String::new(), path);
        cookie.make_removal();
        cookie
    }
}

/// A short, cookie-name-safe id of an attempt: 128 bits of SHA-256 of its state.
fn attempt_id(state: &str) -> String {
    let digest = Sha256::digest(state.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

fn is_attempt_id(id: &str) -> bool {
    id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> CookieSettings {
        CookieSettings {
            secure: false,
            pending_login_key: tower_cookies::Key::generate(),
            previous_pending_login_key: None,
            callback_path: "/callback".into(),
            login_path: "/login".into(),
            session_cookie: "fa_leptos_session".into(),
            pending_cookie_prefix: "fa_login.".into(),
            pending_index_cookie: "fa_logins".into(),
        }
    }

    fn pending(state: &str) -> PendingLogin {
        PendingLogin {
            state: state.to_owned(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            return_to: "/".into(),
            created_at: 0,
        }
    }

    #[test]
    fn attempt_ids_are_cookie_safe_and_distinct() {
        let (a, b) = (attempt_id("state-a"), attempt_id("state-b"));
        assert!(is_attempt_id(&a) && is_attempt_id(&b));
        assert_ne!(a, b);
        assert!(!is_attempt_id("../x"));
    }

    #[test]
    fn a_started_attempt_is_encrypted_and_named_after_its_state() {
        let settings = settings();
        let logins = PendingLogins::new(&settings, Duration::from_secs(600));
        let cookies = Cookies::default();
        logins
            .begin(&cookies, &pending("the-state"))
            .expect("serializes");
        let name = format!("fa_login.{}", attempt_id("the-state"));
        let stored = cookies.get(&name).expect("cookie set");
        assert!(
            !stored.value().contains("the-state"),
            "the value is encrypted"
        );
        assert_eq!(stored.path(), Some("/callback"));
        assert_eq!(stored.http_only(), Some(true));
        assert_eq!(stored.same_site(), Some(SameSite::Lax));
    }
}
