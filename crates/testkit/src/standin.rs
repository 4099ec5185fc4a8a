//! The FusionAuth-shaped stand-in provider (`end2end/idp/server.mjs`, `oidc-provider` from
//! npm) on a free port, and a browser that logs in through it with plain HTTP: the app's
//! login route, the provider's redirects and login form, the app's callback.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::{cookie::Jar, header, redirect, StatusCode};
use url::Url;

/// The kickstart's demo user.
pub const DEMO_EMAIL: &str = "richard@example.com";
/// The demo user's password.
pub const DEMO_PASSWORD: &str = "password";
/// The tutorial's application id, which the stand-in registers.
pub const CLIENT_ID: &str = "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e";
/// The tutorial's client secret, which the stand-in registers.
pub const CLIENT_SECRET: &str = "change-this-in-production-to-be-a-real-secret";

/// A free loopback port (free when asked: bind it soon).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The repository's root (this crate is `crates/testkit`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A running stand-in, stopped when dropped.
pub struct Standin {
    /// Its issuer, `http://localhost:<port>`.
    pub issuer: String,
    child: Child,
}

impl Standin {
    /// Starts the stand-in for an app at `app_url` (its redirect and logout URIs) and waits
    /// until discovery answers. Needs `node` and `end2end/node_modules` (`make deps-browser`).
    pub async fn start(app_url: &str) -> Self {
        let root = repo_root();
        assert!(
            root.join("end2end/node_modules/oidc-provider").exists(),
            "end2end/node_modules is missing: run `make deps-browser`"
        );
        let port = free_port();
        let issuer = format!("http://localhost:{port}");
        let child = Command::new("node")
            .arg("idp/server.mjs")
            .current_dir(root.join("end2end"))
            .env("IDP_PORT", port.to_string())
            .env("ISSUER", &issuer)
            .env("APP_URL", app_url)
            .env("WEBHOOK_URLS", "")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts the stand-in");
        let standin = Self { issuer, child };
        let discovery = format!("{}/.well-known/openid-configuration", standin.issuer);
        wait_until_ok(&discovery, Duration::from_secs(30)).await;
        standin
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An app process configured for `standin` (the variables of the crate's `from_env`, a
/// session database in `dir`, then `extra`), answering at `app_url` once this returns.
/// Stopped when dropped.
pub struct App(Child);

impl App {
    /// Starts `binary` and waits until `app_url` answers.
    pub async fn start(
        binary: &str,
        standin: &Standin,
        app_url: &str,
        dir: &std::path::Path,
        extra: &[(&str, String)],
    ) -> Self {
        let mut command = Command::new(binary);
        command
            .env("ISSUER", &standin.issuer)
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("APP_URL", app_url)
            .env(
                "APP_SECRET_KEY",
                "a-test-secret-that-is-at-least-32-bytes-long",
            )
            .env("SESSION_DB", dir.join("sessions.db"));
        for (name, value) in extra {
            command.env(name, value);
        }
        let app = Self(command.spawn().expect("the app starts"));
        wait_until_ok(app_url, Duration::from_secs(30)).await;
        app
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `url` answers 2xx, panicking after `limit`.
pub async fn wait_until_ok(url: &str, limit: Duration) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(url).send().await {
            if response.status().is_success() {
                return;
            }
        }
        assert!(
            started.elapsed() < limit,
            "{url} did not answer in {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A browser: its own cookie jar, redirects followed by hand (so each hop is checked).
pub struct Browser {
    /// The HTTP client, with this browser's cookie jar.
    pub client: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A new browser with an empty cookie jar.
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .cookie_provider(std::sync::Arc::new(Jar::default()))
            .redirect(redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client builds");
        Self { client }
    }

    /// GETs `url`, following redirects; returns the final URL, status and body.
    pub async fn visit(&self, url: &str) -> (Url, StatusCode, String) {
        let mut url = Url::parse(url).expect("a URL");
        for _ in 0..15 {
            let response = self.client.get(url.clone()).send().await.expect("request");
            if let Some(next) = location(&url, &response) {
                url = next;
                continue;
            }
            let status = response.status();
            return (url, status, response.text().await.expect("body"));
        }
        panic!("more than 15 redirects from {url}");
    }

    /// Logs in from `start` (an app page that leads to the provider's login form): fills in
    /// the demo user and follows the redirects back to the app. Returns the page it lands on.
    pub async fn log_in(&self, start: &str) -> (Url, StatusCode, String) {
        let (form_url, status, html) = self.visit(start).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the provider's login page at {form_url}"
        );
        let action = login_form_action(&html)
            .unwrap_or_else(|| panic!("no login form at {form_url}: {html}"));
        let action = form_url.join(&action).expect("form action");
        let response = self
            .client
            .post(action.clone())
            .form(&[("loginId", DEMO_EMAIL), ("password", DEMO_PASSWORD)])
            .send()
            .await
            .expect("login form");
        let next = location(&action, &response)
            .unwrap_or_else(|| panic!("the login form answered {}", response.status()));
        self.visit(next.as_str()).await
    }

    /// POSTs a form (as a same-origin page would: `Origin` is the target's), without
    /// following the redirect.
    pub async fn post_from_page(&self, url: &str) -> reqwest::Response {
        let target = Url::parse(url).expect("a URL");
        self.client
            .post(target.clone())
            .header(header::ORIGIN, target.origin().ascii_serialization())
            .send()
            .await
            .expect("request")
    }
}

fn location(base: &Url, response: &reqwest::Response) -> Option<Url> {
    if !response.status().is_redirection() {
        return None;
    }
    let value = response.headers().get(header::LOCATION)?.to_str().ok()?;
    base.join(value).ok()
}

/// The `action` of the form that holds the `loginId` field, entity-decoded.
pub fn login_form_action(html: &str) -> Option<String> {
    let field = html.find("name=\"loginId\"")?;
    let form_start = html[..field].rfind("<form")?;
    let tag_end = form_start + html[form_start..].find('>')?;
    let tag = &html[form_start..tag_end];
    let attr = tag.find("action=\"")? + "action=\"".len();
    let value = &tag[attr..attr + tag[attr..].find('"')?];
    Some(
        value
            .replace("&#x2F;", "/")
            .replace("&#47;", "/")
            .replace("&quot;", "\"")
            .replace("&amp;", "&"),
    )
}
