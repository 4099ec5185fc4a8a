//! The real app, on a free port, with a browser-like HTTP client.

use std::{collections::HashMap, path::PathBuf, time::Duration};

use fusionauth_leptos::server::{self, config::Config};
use leptos::config::LeptosOptions;
use reqwest::{header, redirect, Response, StatusCode};
use url::Url;

use super::provider::{CLIENT_ID, CLIENT_SECRET};

pub const SECRET_KEY: &str = "integration-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz";

pub struct TestApp {
    pub base: String,
    /// A browser: keeps cookies, does not follow redirects, asks for HTML.
    pub browser: reqwest::Client,
    pub session_db: PathBuf,
    task: tokio::task::JoinHandle<()>,
    /// The static files: the real `public/` favicon and a stylesheet under `pkg/`.
    _site_root: tempfile::TempDir,
}

/// The favicon the app serves, as its tests expect to receive it.
pub const FAVICON: &str = include_str!("../../public/favicon.svg");

impl Drop for TestApp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct AppSettings {
    pub issuer: String,
    pub session_db: PathBuf,
    pub login_timeout: Option<Duration>,
}

pub fn browser() -> reqwest::Client {
    let mut headers = header::HeaderMap::new();
    headers.insert(
        header::ACCEPT,
        header::HeaderValue::from_static("text/html,application/xhtml+xml"),
    );
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .default_headers(headers)
        // A stuck request fails its test instead of stalling the whole run.
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client builds")
}

pub async fn spawn_app(settings: AppSettings) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("free port");
    let addr = listener.local_addr().expect("bound");
    let base = format!("http://127.0.0.1:{}", addr.port());
    let vars: HashMap<&str, String> = HashMap::from([
        ("ISSUER", settings.issuer.clone()),
        ("CLIENT_ID", CLIENT_ID.to_owned()),
        ("CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("APP_URL", base.clone()),
        ("APP_SECRET_KEY", SECRET_KEY.to_owned()),
        ("SESSION_DB", settings.session_db.display().to_string()),
    ]);
    let mut config =
        Config::from_lookup(|name| vars.get(name).cloned(), false).expect("valid test config");
    if let Some(timeout) = settings.login_timeout {
        config.login_timeout = timeout;
    }
    let site_root = tempfile::tempdir().expect("site root");
    std::fs::write(site_root.path().join("favicon.svg"), FAVICON).expect("favicon");
    std::fs::create_dir(site_root.path().join("pkg")).expect("pkg dir");
    std::fs::write(
        site_root.path().join("pkg/fusionauth-leptos.css"),
        "body { margin: 0 }\n",
    )
    .expect("stylesheet");
    let options = LeptosOptions::builder()
        .output_name("fusionauth-leptos")
        .site_root(site_root.path().display().to_string())
        .site_addr(addr)
        .build();
    let router = server::router(config, options).await.expect("app builds");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    TestApp {
        base,
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
        let response = self
            .browser
            .get(self.url("/login"))
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
        }
    }

    pub async fn callback(&self, query: &[(&str, &str)]) -> Response {
        self.browser
            .get(self.url("/callback"))
            .query(query)
            .send()
            .await
            .expect("request")
    }

    /// Whether this browser is logged in, judged by the home page.
    pub async fn home_page(&self) -> String {
        let response = self.get("/").await;
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.expect("body")
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
}

pub fn location(response: &Response) -> &str {
    response
        .headers()
        .get(header::LOCATION)
        .expect("Location header")
        .to_str()
        .expect("ASCII Location")
}

/// Asserts an error page: its status, its title, and that it says nothing secret.
pub async fn assert_error_page(response: Response, status: u16, title: &str) -> String {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of the error page"
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
