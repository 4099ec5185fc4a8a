//! The provider's refresh grant, as FusionAuth runs it with `refreshTokenUsagePolicy:
//! OneTimeUse`: each refresh hands out a new refresh token and the one used is spent; a
//! spent, revoked or unknown token gets `400 invalid_grant`.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::json;
use wiremock::{
    matchers::{body_string_contains, method, path},
    Mock, Request, Respond, ResponseTemplate,
};

use super::provider::{at_hash, now, TestKey, TestProvider, CLIENT_ID, USER_ID};

/// What the first login's token response carries (see `TestProvider::respond_with_tokens`).
pub const FIRST_REFRESH_TOKEN: &str = "refresh-token-value";

#[derive(Clone)]
pub struct RefreshGrant(Arc<Mutex<GrantState>>);

struct GrantState {
    issuer: String,
    key_kid: String,
    key: TestKey,
    /// The one refresh token that works now.
    valid: Option<String>,
    /// Lifetime of the access tokens it issues.
    expires_in: u64,
    /// Every refresh request seen, valid or not.
    requests: usize,
    /// Requests that presented a token that does not work (spent, revoked or unknown).
    refused: usize,
    refreshed: usize,
    down: bool,
    delay: Duration,
}

impl RefreshGrant {
    /// Mounts the refresh grant on `provider`, in front of its code exchange.
    pub async fn mount(provider: &TestProvider, key: &TestKey, expires_in: u64) -> Self {
        let grant = Self(Arc::new(Mutex::new(GrantState {
            issuer: provider.issuer.clone(),
            key_kid: key.kid.clone(),
            key: key.clone(),
            valid: Some(FIRST_REFRESH_TOKEN.to_owned()),
            expires_in,
            requests: 0,
            refused: 0,
            refreshed: 0,
            down: false,
            delay: Duration::ZERO,
        })));
        Mock::given(method("POST"))
            .and(path("/oauth2/token"))
            .and(body_string_contains("grant_type=refresh_token"))
            .respond_with(grant.clone())
            .with_priority(1)
            .mount(&provider.server)
            .await;
        grant
    }

    fn state(&self) -> std::sync::MutexGuard<'_, GrantState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refresh requests received so far.
    pub fn requests(&self) -> usize {
        self.state().requests
    }

    /// Refreshes that issued new tokens.
    pub fn refreshed(&self) -> usize {
        self.state().refreshed
    }

    /// Requests that presented a refresh token that does not work: with FusionAuth's
    /// `onOneTimeTokenReuse` revocation, a spent token presented again revokes the user.
    pub fn refused(&self) -> usize {
        self.state().refused
    }

    /// The id_tokens of refreshes from now on are signed with `key` (the provider rotated
    /// its signing key, or signs with one it does not publish).
    pub fn sign_with(&self, key: &TestKey) {
        let mut state = self.state();
        state.key = key.clone();
        state.key_kid = key.kid.clone();
    }

    /// Revokes the user's refresh token (FusionAuth's `DELETE /api/jwt/refresh`).
    pub fn revoke(&self) {
        self.state().valid = None;
    }

    /// The provider answers 503 while `down`.
    pub fn set_down(&self, down: bool) {
        self.state().down = down;
    }

    /// Each answer takes this long (so concurrent requests overlap).
    pub fn set_delay(&self, delay: Duration) {
        self.state().delay = delay;
    }
}

impl Respond for RefreshGrant {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state();
        state.requests += 1;
        let delay = state.delay;
        if state.down {
            return ResponseTemplate::new(503).set_delay(delay);
        }
        let presented = url::form_urlencoded::parse(&request.body)
            .find(|(k, _)| k == "refresh_token")
            .map(|(_, v)| v.into_owned());
        if presented.is_none() || presented != state.valid {
            state.refused += 1;
            return ResponseTemplate::new(400)
                .set_body_json(json!({
                    "error": "invalid_grant",
                    "error_description": "The refresh token is not valid.",
                }))
                .set_delay(delay);
        }
        state.refreshed += 1;
        let n = state.refreshed;
        let (access, refresh) = (format!("access-{n}"), format!("refresh-{n}"));
        state.valid = Some(refresh.clone());
        let issued = now();
        let claims = json!({
            "iss": state.issuer,
            "aud": CLIENT_ID,
            "sub": USER_ID,
            "exp": issued + 3600,
            "iat": issued,
            "auth_time": issued - 10,
            "at_hash": at_hash(&access),
            "email": "richard@example.com",
            "email_verified": true,
            "refreshes": n,
        });
        let id_token = state.key.sign(&state.key_kid, &claims);
        ResponseTemplate::new(200)
            .set_body_json(json!({
                "access_token": access,
                "expires_in": state.expires_in,
                "id_token": id_token,
                "refresh_token": refresh,
                "scope": "openid offline_access profile email",
                "token_type": "Bearer",
                "userId": USER_ID,
            }))
            .set_delay(delay)
    }
}
