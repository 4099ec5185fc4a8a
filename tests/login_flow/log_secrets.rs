//! No secret reaches the log, in either format: not a token, the code, a cookie value, the
//! client secret, the webhook signing secret nor APP_SECRET_KEY. The values checked are the
//! real ones of one flow: the tokens the provider issued, the code of the callback URL, the
//! cookies of the `Set-Cookie` headers.

use fusionauth_leptos::server::logging::LogFormat;
use reqwest::{
    header::{HeaderMap, HeaderValue},
    Response, StatusCode,
};

use crate::support::{
    app::{browser_sending, cookie_pair, set_cookies, SECRET_KEY},
    logs::{capture, captured_as, json_lines_of, text_lines_of, unique_marker},
    provider::{CLIENT_SECRET, USER_ID},
    refresh::{RefreshGrant, FIRST_REFRESH_TOKEN},
    setup,
    webhook::{self, revoke_event, signature},
};

/// What a flow showed that must never be logged, each with a name for the failure message.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, name: &str, value: &str) {
        self.0.push((name.to_owned(), value.to_owned()));
    }

    /// The value of each cookie a response sets (a removal's empty value is no secret).
    fn add_cookies(&mut self, response: &Response) {
        for set_cookie in set_cookies(response) {
            let (name, value) = cookie_pair(&set_cookie)
                .split_once('=')
                .expect("name=value");
            if !value.is_empty() {
                self.add(&format!("cookie {name}"), value);
            }
        }
    }
}

/// The routes the flow went through: each must have its access line, in each format, or the
/// test would be looking at an empty log.
const ROUTES: [&str; 5] = [
    "/login",
    "/callback",
    "/",
    "/auth/logout",
    fusionauth_leptos::defaults::WEBHOOK_PATH,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_of_a_login_refresh_logout_and_webhook_is_logged_in_either_format() {
    capture();
    let mut s = setup().await;
    // Every request of this test carries this id, so its lines can be told apart.
    let id = unique_marker("no-secrets");
    let mut headers = HeaderMap::new();
    headers.insert("x-request-id", HeaderValue::from_str(&id).expect("sane"));
    s.app.browser = browser_sending(headers);
    let mut secrets = Secrets::default();
    secrets.add("client secret", CLIENT_SECRET);
    secrets.add("APP_SECRET_KEY", SECRET_KEY);
    secrets.add("webhook signing secret", webhook::SECRET);

    // A login whose tokens expire at once, so the next page refreshes them.
    let grant = RefreshGrant::mount(&s.provider, &s.key, 3600).await;
    s.provider.set_token_lifetime(0);
    let start = s.app.start_login("/").await;
    for set_cookie in &start.cookies {
        let (name, value) = cookie_pair(set_cookie).split_once('=').expect("name=value");
        secrets.add(&format!("pending-login cookie {name}"), value);
    }
    let access_token = unique_marker("access-token");
    let claims = s.provider.claims(&start.nonce, &access_token);
    let id_token = s.key.sign(&s.key.kid, &claims);
    s.provider.respond_with_tokens(&id_token, &access_token);
    let code = unique_marker("authorization-code");
    let login = s
        .app
        .callback(&[("code", &code), ("state", &start.state)])
        .await;
    assert_eq!(login.status(), StatusCode::FOUND);
    secrets.add("access token", &access_token);
    secrets.add("id_token", &id_token);
    secrets.add("refresh token", FIRST_REFRESH_TOKEN);
    secrets.add("authorization code", &code);
    secrets.add_cookies(&login);

    let page = s.app.home_page().await;
    assert!(page.contains("refreshes"), "refreshed: {page}");
    assert_eq!(grant.refreshed(), 1);
    // What the refresh grant issued (its id_token is checked below as any JWT).
    secrets.add("refreshed access token", "access-1");
    secrets.add("refreshed refresh token", "refresh-1");

    let logout = s.app.logout().await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    secrets.add_cookies(&logout);

    let body = serde_json::to_vec(&revoke_event(USER_ID)).expect("json");
    let signed = signature(webhook::SECRET, &body);
    let delivered = reqwest::Client::new()
        .post(s.app.url(fusionauth_leptos::defaults::WEBHOOK_PATH))
        .header("content-type", "application/json")
        .header("x-request-id", &id)
        .header("X-FusionAuth-Signature-JWT", &signed)
        .body(body)
        .send()
        .await
        .expect("webhook delivered");
    assert_eq!(delivered.status(), StatusCode::OK);
    secrets.add("webhook signature", &signed);

    assert_no_secret_in(LogFormat::Text, text_lines_of(&id), &secrets);
    let json_lines = json_lines_of(&id).iter().map(|l| l.to_string()).collect();
    assert_no_secret_in(LogFormat::Json, json_lines, &secrets);
}

/// The whole `format` log holds none of `secrets`, and `ours` (this test's lines) have an
/// access line for every route of the flow and no JWT at all.
fn assert_no_secret_in(format: LogFormat, ours: Vec<String>, secrets: &Secrets) {
    for route in ROUTES {
        let (text, json) = (format!("route={route} "), format!(r#""route":"{route}""#));
        assert!(
            ours.iter()
                .any(|line| line.contains(&text) || line.contains(&json)),
            "no {format:?} access line for {route}: {ours:#?}"
        );
    }
    // The refresh runs in a task of its own: its lines are checked as the request's too.
    assert!(
        ours.iter().any(|line| line.contains("tokens refreshed")),
        "the refresh's own line is among this test's {format:?} lines: {ours:#?}"
    );
    let log = captured_as(format);
    for (name, value) in &secrets.0 {
        assert!(
            !log.contains(value.as_str()),
            "the {format:?} log holds the {name}"
        );
    }
    // A JWT's header starts with `{"`, so its base64 with `eyJ`: the id_tokens (the
    // refreshed one too, which this test never sees) and the webhook's signature.
    if let Some(line) = ours.iter().find(|line| line.contains("eyJ")) {
        panic!("a JWT in the {format:?} log: {line}");
    }
}
