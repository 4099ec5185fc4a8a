#![allow(dead_code)]

pub mod app;
pub mod logs;
pub mod provider;
pub mod redis;
pub mod refresh;
pub mod replicas;
pub mod webhook;

use fusionauth_leptos::server::config::Config;
use reqwest::StatusCode;
use serde_json::Value;

use app::{assert_error_page, location, spawn_app_with, AppSettings, LoginStart, TestApp};
use provider::{key_a, TestKey, TestProvider};

pub const ACCESS_TOKEN: &str = "access-token-value";
pub const EMAIL: &str = "richard@example.com";

/// A provider the test controls, and the app configured against it.
pub struct Setup {
    pub provider: TestProvider,
    pub app: TestApp,
    pub key: TestKey,
    pub dir: tempfile::TempDir,
    /// `name=value` of a session cookie a test kept, to replay it later.
    login_cookie: std::sync::Mutex<Option<String>>,
}

pub async fn setup() -> Setup {
    setup_with(|_| {}).await
}

/// A setup whose app configuration is changed by `edit` first.
pub async fn setup_with(edit: impl FnOnce(&mut Config)) -> Setup {
    setup_with_vars(&[], edit).await
}

/// A setup whose app reads `vars` from its environment, then is changed by `edit`.
pub async fn setup_with_vars(
    vars: &[(&'static str, &str)],
    edit: impl FnOnce(&mut Config),
) -> Setup {
    let key = key_a();
    let provider = TestProvider::start(&[&key]).await;
    setup_on(provider, key, vars, edit).await
}

/// A setup whose provider's discovery document is changed by `edit` first.
pub async fn setup_with_discovery(edit: impl FnOnce(&mut Value)) -> Setup {
    let key = key_a();
    let provider = TestProvider::start_with_discovery(&[&key], edit).await;
    setup_on(provider, key, &[], |_| {}).await
}

async fn setup_on(
    provider: TestProvider,
    key: TestKey,
    vars: &[(&'static str, &str)],
    edit: impl FnOnce(&mut Config),
) -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = vars
        .iter()
        .fold(AppSettings::new(&provider.issuer, &dir), |s, (k, v)| {
            s.with_var(k, *v)
        });
    let app = spawn_app_with(settings, edit).await;
    Setup {
        provider,
        app,
        key,
        dir,
        login_cookie: std::sync::Mutex::new(None),
    }
}

impl Setup {
    /// Keeps `name=value` of a session cookie, as an attacker who copied it would.
    pub fn remember_login_cookie(&self, cookie: &str) {
        *self.login_cookie.lock().expect("not poisoned") = Some(cookie.to_owned());
    }

    /// The session cookie kept by [`Setup::remember_login_cookie`].
    pub fn login_cookie(&self) -> String {
        self.login_cookie
            .lock()
            .expect("not poisoned")
            .clone()
            .expect("a kept session cookie")
    }

    /// Has the provider answer the next code exchange with a good id_token for `nonce`.
    pub fn issue_tokens_for(&self, nonce: &str) {
        let claims = self.provider.claims(nonce, ACCESS_TOKEN);
        self.provider
            .respond_with_tokens(&self.key.sign(&self.key.kid, &claims), ACCESS_TOKEN);
    }

    /// Completes a started login: the provider issues good tokens, the browser comes back.
    pub async fn finish(&self, start: &LoginStart) -> reqwest::Response {
        self.issue_tokens_for(&start.nonce);
        self.app
            .callback(&[("code", "c"), ("state", &start.state)])
            .await
    }

    /// Starts a login, has the provider answer with an id_token built from `edit`ed claims
    /// signed by `key` under `kid`, and returns the callback's response.
    pub async fn login_with(
        &self,
        key: &TestKey,
        kid: &str,
        edit: impl FnOnce(&mut Value),
    ) -> reqwest::Response {
        let start = self.app.start_login("/").await;
        let mut claims = self.provider.claims(&start.nonce, ACCESS_TOKEN);
        edit(&mut claims);
        self.provider
            .respond_with_tokens(&key.sign(kid, &claims), ACCESS_TOKEN);
        self.app
            .callback(&[("code", "the-code"), ("state", &start.state)])
            .await
    }

    /// A login whose id_token, signed as it should be, carries `edit`ed claims.
    pub async fn login_editing(&self, edit: impl FnOnce(&mut Value)) -> reqwest::Response {
        self.login_with(&self.key, &self.key.kid, edit).await
    }

    pub async fn login(&self) -> reqwest::Response {
        self.login_editing(|_| {}).await
    }

    /// A correct login that started with `return_to`.
    pub async fn login_returning_to(&self, return_to: &str) -> reqwest::Response {
        let start = self.app.start_login(return_to).await;
        self.finish(&start).await
    }

    /// The response is an error page with `status` and `title`, and nobody got logged in.
    pub async fn assert_rejected(
        &self,
        response: reqwest::Response,
        status: u16,
        title: &str,
    ) -> String {
        let page = assert_error_page(response, status, title).await;
        self.assert_no_session_created().await;
        page
    }

    pub async fn assert_no_session_created(&self) {
        self.app.assert_guest().await;
        // The protected page still sends this browser to the provider.
        let response = self.app.get("/profile").await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(location(&response), "/login?return_to=%2Fprofile");
    }
}
