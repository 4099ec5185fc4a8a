//! Two app processes' worth of the real app, sharing one real Redis: replicas behind one
//! URL. One browser talks to both (cookies are per host, not per port).

use super::{
    app::{spawn_app, AppSettings, TestApp},
    provider::{key_a, TestKey, TestProvider},
    redis::TestRedis,
    ACCESS_TOKEN,
};

pub struct Replicas {
    pub provider: TestProvider,
    pub key: TestKey,
    pub redis: TestRedis,
    pub a: TestApp,
    pub b: TestApp,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

/// Starts Redis (append-only persistence when `append_only`) and two replicas using it,
/// each reading `vars` too.
pub async fn replicas(append_only: bool, vars: &[(&'static str, &str)]) -> Replicas {
    let key = key_a();
    let provider = TestProvider::start(&[&key]).await;
    let redis = TestRedis::start(append_only);
    let dirs = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let settings = |dir: &tempfile::TempDir| {
        vars.iter().fold(
            AppSettings::new(&provider.issuer, dir).with_var("REDIS_URL", redis.url()),
            |s, (k, v)| s.with_var(k, *v),
        )
    };
    let a = spawn_app(settings(&dirs.0)).await;
    let mut b = spawn_app(settings(&dirs.1)).await;
    b.browser = a.browser.clone();
    Replicas {
        provider,
        key,
        redis,
        a,
        b,
        _dirs: dirs,
    }
}

impl Replicas {
    /// A whole login through `app`; returns the callback's response.
    pub async fn login_on(&self, app: &TestApp) -> reqwest::Response {
        let start = app.start_login("/").await;
        let claims = self.provider.claims(&start.nonce, ACCESS_TOKEN);
        self.provider
            .respond_with_tokens(&self.key.sign(&self.key.kid, &claims), ACCESS_TOKEN);
        app.callback(&[("code", "c"), ("state", &start.state)])
            .await
    }
}
