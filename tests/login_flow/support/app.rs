//! The real app, on a free port, with a browser-like HTTP client.

use std::{collections::HashMap, path::PathBuf};

use fusionauth_leptos::server::{self, config::Config};
use leptos::config::LeptosOptions;
use reqwest::{header, redirect, Response, StatusCode};
use url::Url;

use super::provider::{CLIENT_ID, CLIENT_SECRET};

pub const SECRET_KEY: &str = "integration-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz";

/// A hashed asset name as cargo-leptos writes them with `hash-files`.
pub const HASHED_WASM: &str = "pkg/fusionauth-leptos.AbCdEfGhIjKlMnOpQrStUv.wasm";

pub struct TestApp {
    pub base: String,
    /// The app's configuration as it was read (its keys, its store).
    pub settings: AppSettings,
    /// A browser: keeps cookies (by path and expiry), does not follow redirects, asks for HTML.
    pub browser: reqwest::Client,
    pub session_db: PathBuf,
    task: tokio::task::JoinHandle<()>,
    /// The static files: the real `public/` favicon and a stylesheet under `pkg/`.
    _site_root: tempfile::TempDir,
}

/// The favicon the app serves, as its tests expect to receive it.
pub const FAVICON: &str = include_str!("../../../public/favicon.svg");

impl Drop for TestApp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
pub struct AppSettings {
    pub issuer: String,
    pub session_db: PathBuf,
    /// Environment variables set on top of the test defaults.
    pub vars: Vec<(&'static str, String)>,
}

impl AppSettings {
    pub fn new(issuer: &str, dir: &tempfile::TempDir) -> Self {
        Self {
            issuer: issuer.to_owned(),
            session_db: dir.path().join("sessions.db"),
            vars: Vec::new(),
        }
    }

    pub fn with_var(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.vars.push((name, value.into()));
        self
    }
}

pub fn browser() -> reqwest::Client {
    browser_sending(header::HeaderMap::new())
}

/// A browser that also sends `headers` with every request.
pub fn browser_sending(mut headers: header::HeaderMap) -> reqwest::Client {
    headers.insert(
        header::ACCEPT,
        header::HeaderValue::from_static("text/html,application/xhtml+xml"),
    );
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .default_headers(headers)
        // A stuck request fails its test instead of stalling the whole run.
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client builds")
}

/// The configuration a test app starts from, at `base`.
pub fn test_config(settings: &AppSettings, base: &str) -> Config {
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("ISSUER", settings.issuer.clone()),
        ("CLIENT_ID", CLIENT_ID.to_owned()),
        ("CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("APP_URL", base.to_owned()),
        ("APP_SECRET_KEY", SECRET_KEY.to_owned()),
        ("SESSION_DB", settings.session_db.display().to_string()),
        (
            "WEBHOOK_SIGNING_SECRET",
            fusionauth_leptos::defaults::WEBHOOK_SIGNING_SECRET.to_owned(),
        ),
    ]);
    vars.extend(settings.vars.iter().map(|(k, v)| (*k, v.clone())));
    Config::from_lookup(|name| vars.get(name).cloned(), false).expect("valid test config")
}

pub async fn spawn_app(settings: AppSettings) -> TestApp {
    spawn_app_with(settings, |_| {}).await
}

/// Runs the app with the test configuration, changed by `edit` first.
pub async fn spawn_app_with(settings: AppSettings, edit: impl FnOnce(&mut Config)) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("free port");
    let addr = listener.local_addr().expect("bound");
    let base = format!("http://127.0.0.1:{}", addr.port());
    let mut config = test_config(&settings, &base);
    edit(&mut config);
    let app_settings = settings.clone();
    let site_root = tempfile::tempdir().expect("site root");
    std::fs::write(site_root.path().join("favicon.svg"), FAVICON).expect("favicon");
    std::fs::create_dir(site_root.path().join("pkg")).expect("pkg dir");
    std::fs::write(
        site_root.path().join("pkg/fusionauth-leptos.css"),
        "body { margin: 0 }\n",
    )
    .expect("stylesheet");
    std::fs::write(site_root.path().join(HASHED_WASM), b"\0asm").expect("hashed asset");
    let options = LeptosOptions::builder()
        .output_name("fusionauth-leptos")
        .site_root(site_root.path().display().to_string())
        .site_addr(addr)
        .build();
    let app = server::app(config, options).await.expect("app builds");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, tower::make::Shared::new(app)).await;
    });
    TestApp {
        base,
        settings: app_settings,
        browser: browser(),
        session_db: settings.session_db,
        task,
        _site_root: site_root,
    }
}

/// What `/login` hands to the provider.
pub struct LoginStart {
    pub state: String,
    pub nonce: String,
    pub authorize_url: Url,
    /// The `Set-Cookie` headers of the `/login` response.
    pub cookies: Vec<String>,
}

impl LoginStart {
    /// `name=value` of this attempt's cookie, as a browser sends it back.
    pub fn attempt_cookie(&self) -> &str {
        self.cookies
            .iter()
            .find(|c| c.starts_with("fa_login.") || c.starts_with("__Secure-fa_login."))
            .map(|c| cookie_pair(c))
            .expect("the attempt's cookie")
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.browser
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Starts a login like a browser clicking Login, and reads what the app sent to the provider.
    pub async fn start_login(&self, return_to: &str) -> LoginStart {
        start_login_in(&self.browser, self, return_to).await
    }

    pub async fn callback(&self, query: &[(&str, &str)]) -> Response {
        self.browser
            .get(self.url("/callback"))
            .query(query)
            .send()
            .await
            .expect("request")
    }

    /// Clicks Logout: a same-origin form post, as the browser sends it.
    pub async fn logout(&self) -> Response {
        self.browser
            .post(self.url("/auth/logout"))
            .header(header::ORIGIN, &self.base)
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .expect("request")
    }

    /// Whether this browser is logged in, judged by the home page.
    pub async fn home_page(&self) -> String {
        page_of(&self.browser, &self.url("/")).await
    }

    pub async fn assert_guest(&self) {
        let page = self.home_page().await;
        assert!(
            page.contains("Hello Guest"),
            "expected the guest view, got: {page}"
        );
        assert!(!page.contains("You are logged in as"));
    }

    pub async fn assert_logged_in_as(&self, email: &str) {
        let page = self.home_page().await;
        assert!(
            page.contains("You are logged in as") && page.contains(email),
            "expected the profile of {email}, got: {page}"
        );
    }

    /// How many sessions the store holds.
    pub async fn stored_sessions(&self) -> i64 {
        let mut db = self.store_connection().await;
        sqlx::query_scalar("SELECT COUNT(*) FROM tower_sessions")
            .fetch_one(&mut db)
            .await
            .expect("count sessions")
    }

    /// How many entries the per-user index holds (SQLite).
    pub async fn index_entries(&self) -> i64 {
        let mut db = self.store_connection().await;
        sqlx::query_scalar("SELECT COUNT(*) FROM fa_user_sessions")
            .fetch_one(&mut db)
            .await
            .expect("count index entries")
    }

    /// Renames a table of the running app's store: the store fails on it until it is back.
    pub async fn rename_table(&self, from: &str, to: &str) {
        sqlx::query(&format!("ALTER TABLE {from} RENAME TO {to}"))
            .execute(&mut self.store_connection().await)
            .await
            .expect("rename the table");
    }

    /// The app's configuration, read again the way the app read it.
    pub fn config(&self) -> Config {
        test_config(&self.settings, &self.base)
    }

    /// What seals this app's session records.
    pub fn sealer(&self) -> axum_oidc_sessions::store::Sealer {
        let sessions = self.config().oidc.sessions;
        axum_oidc_sessions::store::Sealer::new(&sessions.data_key, &sessions.previous_data_keys)
    }

    /// A connection to the app's session database, beside the app.
    pub async fn store_connection(&self) -> sqlx::SqliteConnection {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&self.session_db);
        sqlx::ConnectOptions::connect(&options)
            .await
            .expect("open the store")
    }
}

/// `count` requests for `/` at once, spread round-robin over `apps` (each with its browser),
/// in the order they were sent.
pub async fn pages_at_once(apps: &[&TestApp], count: usize) -> Vec<String> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let app = apps[i % apps.len()];
        let (browser, url) = (app.browser.clone(), app.url("/"));
        tasks.spawn(async move { (i, page_of(&browser, &url).await) });
    }
    let mut pages = tasks.join_all().await;
    pages.sort_by_key(|(i, _)| *i);
    pages.into_iter().map(|(_, page)| page).collect()
}

/// `/login` in `browser`, another tab or another browser.
pub async fn start_login_in(
    browser: &reqwest::Client,
    app: &TestApp,
    return_to: &str,
) -> LoginStart {
    let response = browser
        .get(app.url("/login"))
        .query(&[("return_to", return_to)])
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "login redirects to the provider"
    );
    let authorize_url = Url::parse(location(&response)).expect("absolute authorize URL");
    let query: HashMap<_, _> = authorize_url.query_pairs().into_owned().collect();
    LoginStart {
        state: query.get("state").expect("state sent").clone(),
        nonce: query.get("nonce").expect("nonce sent").clone(),
        authorize_url,
        cookies: set_cookies(&response),
    }
}

pub async fn page_of(browser: &reqwest::Client, url: &str) -> String {
    let response = browser.get(url).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.text().await.expect("body")
}

pub fn location(response: &Response) -> &str {
    response
        .headers()
        .get(header::LOCATION)
        .expect("Location header")
        .to_str()
        .expect("ASCII Location")
}

/// Every `Set-Cookie` of a response.
pub fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

/// The `Set-Cookie` for cookie `name`, if any.
pub fn set_cookie<'a>(cookies: &'a [String], name: &str) -> Option<&'a str> {
    cookies
        .iter()
        .find(|c| c.split('=').next() == Some(name))
        .map(String::as_str)
}

/// The `name=value` part of a `Set-Cookie`.
pub fn cookie_pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap_or_default()
}

/// A header as text.
pub fn header_text(response: &Response, name: header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The nonce a response's Content-Security-Policy allows scripts with.
pub fn csp_nonce(response: &Response) -> String {
    let policy = header_text(response, header::CONTENT_SECURITY_POLICY).expect("a CSP");
    policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the CSP")
        .to_owned()
}

/// The page at `path` for a new browser that sends only `cookie`.
pub async fn page_with_cookie(app: &TestApp, path: &str, cookie: &str) -> String {
    browser()
        .get(app.url(path))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body")
}

/// An issuer URL where nothing listens: a port bound, then freed.
pub fn closed_port_issuer() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = listener.local_addr().expect("addr").port();
    format!("http://127.0.0.1:{port}")
}

/// Whether a `Set-Cookie` deletes its cookie.
pub fn is_removal(set_cookie: &str) -> bool {
    set_cookie.contains("Max-Age=0") || set_cookie.contains("1970")
}

/// Asserts an error page: its status, its title, and that it says nothing secret.
pub async fn assert_error_page(response: Response, status: u16, title: &str) -> String {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of the error page"
    );
    assert_eq!(
        response.headers().get(header::CACHE_CONTROL),
        Some(&header::HeaderValue::from_static("no-store")),
        "error pages are never cached"
    );
    let page = response.text().await.expect("body");
    assert!(
        page.contains("data-testid=\"error-page\""),
        "an error page: {page}"
    );
    assert!(page.contains(title), "error title {title:?} in: {page}");
    assert!(page.contains("Back to start"));
    assert!(!contains_jwt(&page), "the error page leaks a JWT");
    for secret in [CLIENT_SECRET, "refresh-token-value"] {
        assert!(!page.contains(secret), "the error page leaks {secret:?}");
    }
    page
}

/// Whether `text` holds something shaped like a JWT: two base64url JSON objects joined by a dot
/// (`eyJ….eyJ…`). A bare `eyJ` can occur by chance in a random nonce.
pub fn contains_jwt(text: &str) -> bool {
    let is_b64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices("eyJ").any(|(at, _)| {
        let header_len = text[at..]
            .find(|c: char| !is_b64url(c))
            .unwrap_or(text.len() - at);
        text[at + header_len..].starts_with(".eyJ")
    })
}

#[test]
fn jwt_shapes_are_recognised() {
    assert!(contains_jwt("x eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig y"));
    assert!(!contains_jwt("nonce=\"aeyJq9_x\" and eyJ alone"));
}
