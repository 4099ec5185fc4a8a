//! A browser-like HTTP client that walks the real login flow: the app's /login, the
//! provider's redirects and login form, the app's /callback, then /profile. Each login has
//! its own cookie jar (a new browser); the connection pool is shared, as a browser's would
//! be across tabs. Every app request is timed on its own.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context, Result};
use reqwest::{
    cookie::{CookieStore, Jar},
    header::{self, HeaderMap, HeaderValue},
    StatusCode,
};
use url::Url;

pub const USER: &str = "richard@example.com";
pub const PASSWORD: &str = "password";
pub const LOGGED_IN_MARK: &str = "You are logged in as";
const MAX_PROVIDER_HOPS: usize = 15;

pub fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // localhost: the app listens on 127.0.0.1 only; don't try ::1 first.
        .resolve("localhost", "127.0.0.1:0".parse()?)
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .user_agent("bench-browser/1")
        .build()?)
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

/// Time of one scripted login, per step (client side: request sent to last body byte).
#[derive(Clone, Copy, Debug, Default)]
pub struct LoginTiming {
    pub app_login: Duration,
    pub provider: Duration,
    pub app_callback: Duration,
    pub app_profile: Duration,
    pub total: Duration,
}

impl LoginTiming {
    /// The app's three requests, client side.
    pub fn app(&self) -> Duration {
        self.app_login + self.app_callback + self.app_profile
    }
}

pub struct Browser {
    client: reqwest::Client,
    pub app: Url,
    pub provider: Url,
}

impl Browser {
    pub fn new(client: reqwest::Client, app: Url, provider: Url) -> Self {
        Self {
            client,
            app,
            provider,
        }
    }

    pub async fn request(
        &self,
        jar: Option<&Jar>,
        method: reqwest::Method,
        url: &Url,
        form: Option<&[(&str, &str)]>,
        extra: &[(header::HeaderName, &str)],
    ) -> Result<Response> {
        let mut req = self
            .client
            .request(method, url.clone())
            .header(header::ACCEPT, "text/html,application/xhtml+xml");
        for (name, value) in extra {
            req = req.header(name, *value);
        }
        if let Some(cookies) = jar.and_then(|j| j.cookies(url)) {
            req = req.header(header::COOKIE, cookies);
        }
        if let Some(form) = form {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish();
            req = req
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body);
        }
        let start = Instant::now();
        let res = req
            .send()
            .await
            .with_context(|| format!("request {}", url.path()))?;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.bytes().await?.to_vec();
        let elapsed = start.elapsed();
        if let Some(jar) = jar {
            let mut set = headers.get_all(header::SET_COOKIE).iter();
            jar.set_cookies(&mut set, url);
        }
        Ok(Response {
            status,
            headers,
            body,
            elapsed,
        })
    }

    pub async fn get(&self, jar: Option<&Jar>, url: &Url) -> Result<Response> {
        self.request(jar, reqwest::Method::GET, url, None, &[])
            .await
    }

    fn is_app(&self, url: &Url) -> bool {
        url.origin() == self.app.origin()
    }

    /// One complete login in a new browser. Returns its timing and the jar (logged in).
    pub async fn login(&self) -> Result<(LoginTiming, Jar)> {
        let jar = Jar::default();
        let started = Instant::now();
        let mut t = LoginTiming::default();

        // 1. The app starts the login and sends the browser to the provider.
        let login_url = self.app.join("/login?return_to=%2Fprofile")?;
        let res = self.get(Some(&jar), &login_url).await?;
        t.app_login = res.elapsed;
        ensure!(
            res.status.is_redirection(),
            "/login answered {}",
            res.status
        );
        let mut next = location(&login_url, &res)?;

        // 2. The provider: redirects, its login form, more redirects, until it sends the
        //    browser back to the app's callback.
        let provider_started = Instant::now();
        let mut submitted = false;
        let mut hops = 0;
        while !self.is_app(&next) {
            hops += 1;
            ensure!(
                hops <= MAX_PROVIDER_HOPS,
                "provider: more than {MAX_PROVIDER_HOPS} steps"
            );
            ensure!(
                next.origin() == self.provider.origin(),
                "unexpected host {}",
                next.origin().ascii_serialization()
            );
            let res = self.get(Some(&jar), &next).await?;
            if res.status.is_redirection() {
                next = location(&next, &res)?;
                continue;
            }
            ensure!(
                res.status == StatusCode::OK,
                "provider {} answered {}",
                next.path(),
                res.status
            );
            ensure!(
                !submitted,
                "provider showed a page after the login form was sent (wrong password?)"
            );
            let html = String::from_utf8_lossy(&res.body);
            let action = login_form_action(&html).context("provider page has no login form")?;
            let action = next.join(&action)?;
            let res = self
                .request(
                    Some(&jar),
                    reqwest::Method::POST,
                    &action,
                    Some(&[("loginId", USER), ("password", PASSWORD)]),
                    &[],
                )
                .await?;
            submitted = true;
            ensure!(
                res.status.is_redirection(),
                "login form answered {}",
                res.status
            );
            next = location(&action, &res)?;
        }
        t.provider = provider_started.elapsed();
        ensure!(
            next.path() == "/callback",
            "provider sent the browser to {}",
            next.path()
        );

        // 3. The callback: the app exchanges the code (one request to the provider).
        let res = self.get(Some(&jar), &next).await?;
        t.app_callback = res.elapsed;
        ensure!(
            res.status.is_redirection(),
            "/callback answered {}: {}",
            res.status,
            snippet(&res.body)
        );
        let profile = location(&next, &res)?;
        ensure!(
            profile.path() == "/profile",
            "callback sent the browser to {}",
            profile.path()
        );

        // 4. The page the login returns to.
        let res = self.get(Some(&jar), &profile).await?;
        t.app_profile = res.elapsed;
        ensure!(
            res.status == StatusCode::OK,
            "/profile answered {}",
            res.status
        );
        ensure!(
            contains(&res.body, LOGGED_IN_MARK),
            "/profile does not show the logged-in user"
        );
        t.total = started.elapsed();
        Ok((t, jar))
    }

    /// The Cookie header this browser sends to the app.
    pub fn app_cookie(&self, jar: &Jar) -> Option<HeaderValue> {
        jar.cookies(&self.app)
    }

    /// The Cookie header of a new login. A cookie taken before the login levels may name a
    /// session they pushed past the per-user cap (`MAX_SESSIONS_PER_USER`): one login of the
    /// same user too many ends the oldest.
    pub async fn fresh_session_cookie(&self) -> Result<String> {
        let (_, jar) = self.login().await.context("a fresh login")?;
        let cookie = self
            .app_cookie(&jar)
            .context("no session cookie after login")?;
        Ok(cookie.to_str()?.to_owned())
    }
}

pub fn contains(body: &[u8], needle: &str) -> bool {
    body.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(300)]).replace('\n', " ")
}

fn location(base: &Url, res: &Response) -> Result<Url> {
    let value = res
        .headers
        .get(header::LOCATION)
        .context("redirect without Location")?
        .to_str()?;
    Ok(base.join(value)?)
}

/// The stand-in's login form, found as the examples' tests find it.
pub use testkit::standin::login_form_action;

/// Result of one batch of logins at one concurrency.
pub struct Batch {
    pub concurrency: usize,
    pub timings: Vec<LoginTiming>,
    pub errors: Vec<String>,
    pub wall: Duration,
}

/// `count` logins by `concurrency` browsers at once, stopping early at `limit`.
pub async fn login_batch(
    browser: Arc<Browser>,
    concurrency: usize,
    count: usize,
    limit: Duration,
) -> Batch {
    let next = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new((Vec::with_capacity(count), Vec::new())));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (browser, next, results) = (browser.clone(), next.clone(), results.clone());
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < count && start.elapsed() < limit {
                let outcome = browser.login().await;
                let mut r = results.lock().expect("lock");
                match outcome {
                    Ok((t, _)) => r.0.push(t),
                    Err(e) => r.1.push(format!("{e:#}")),
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let wall = start.elapsed();
    let (timings, errors) = std::mem::take(&mut *results.lock().expect("lock"));
    Batch {
        concurrency,
        timings,
        errors,
        wall,
    }
}

/// `count` logins started by new browsers that never finish them (GET /login without a
/// cookie, as a bot does). Each attempt lives in an encrypted cookie, so none of them should
/// cost the server memory or a session row. Returns the errors.
pub async fn start_sessions(
    browser: Arc<Browser>,
    concurrency: usize,
    count: usize,
    limit: Duration,
) -> Result<(usize, Vec<String>)> {
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let url = browser.app.join("/login?return_to=%2F")?;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (browser, next, done, errors, url) = (
            browser.clone(),
            next.clone(),
            done.clone(),
            errors.clone(),
            url.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < count && start.elapsed() < limit {
                match browser.get(None, &url).await {
                    Ok(res)
                        if res.status.is_redirection()
                            && res.headers.contains_key(header::SET_COOKIE) =>
                    {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(res) => errors
                        .lock()
                        .expect("lock")
                        .push(format!("/login answered {}", res.status)),
                    Err(e) => errors.lock().expect("lock").push(format!("{e:#}")),
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let errors = std::mem::take(&mut *errors.lock().expect("lock"));
    if errors.len() > count / 100 {
        bail!(
            "{} of {count} session starts failed; first: {}",
            errors.len(),
            errors[0]
        );
    }
    Ok((done.load(Ordering::Relaxed), errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_login_form_action() {
        let html = r#"<form id="search" action="/nope"></form>
            <form id="login-form" method="post" action="/oauth2/interaction/abc/login?x=1&amp;y=2">
            <input id="loginId" name="loginId" type="text"></form>"#;
        assert_eq!(
            login_form_action(html).as_deref(),
            Some("/oauth2/interaction/abc/login?x=1&y=2")
        );
        assert_eq!(login_form_action("<form action=\"/x\"></form>"), None);
    }
}
