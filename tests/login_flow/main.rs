//! The login flow against a provider the tests control, one test per behaviour or attack.
//! Every test runs the real app on its own port with its own session database.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{
    app::{assert_error_page, location, spawn_app, AppSettings, TestApp},
    provider::{key_a, key_b, now, TestKey, TestProvider, CLIENT_ID, CLIENT_SECRET},
};

const ACCESS_TOKEN: &str = "access-token-value";

struct Setup {
    provider: TestProvider,
    app: TestApp,
    key: TestKey,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    setup_with(None).await
}

async fn setup_with(login_timeout: Option<Duration>) -> Setup {
    let key = key_a();
    let provider = TestProvider::start(&[&key]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(AppSettings {
        issuer: provider.issuer.clone(),
        session_db: dir.path().join("sessions.db"),
        login_timeout,
    })
    .await;
    Setup {
        provider,
        app,
        key,
        _dir: dir,
    }
}

impl Setup {
    /// Starts a login, has the provider answer with an id_token built from `edit`ed claims
    /// signed by `key` under `kid`, and returns the callback's response.
    async fn login_with(
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
    async fn login_editing(&self, edit: impl FnOnce(&mut Value)) -> reqwest::Response {
        self.login_with(&self.key, &self.key.kid, edit).await
    }

    async fn login(&self) -> reqwest::Response {
        self.login_editing(|_| {}).await
    }

    /// A correct login that started with `return_to`.
    async fn login_returning_to(&self, return_to: &str) -> reqwest::Response {
        let start = self.app.start_login(return_to).await;
        let claims = self.provider.claims(&start.nonce, ACCESS_TOKEN);
        self.provider
            .respond_with_tokens(&self.key.sign(&self.key.kid, &claims), ACCESS_TOKEN);
        self.app
            .callback(&[("code", "c"), ("state", &start.state)])
            .await
    }

    /// The response is an error page with `status` and `title`, and nobody got logged in.
    async fn assert_rejected(
        &self,
        response: reqwest::Response,
        status: u16,
        title: &str,
    ) -> String {
        let page = assert_error_page(response, status, title).await;
        self.assert_no_session_created().await;
        page
    }

    async fn assert_no_session_created(&self) {
        self.app.assert_guest().await;
        // The protected page still sends this browser to the provider.
        let response = self.app.get("/profile").await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(location(&response), "/login?return_to=%2Fprofile");
    }
}

fn cookie_header(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_login_shows_the_profile_and_logout_ends_it() {
    let s = setup().await;
    s.app.assert_guest().await;

    let start = s.app.start_login("/").await;
    let query: std::collections::HashMap<_, _> =
        start.authorize_url.query_pairs().into_owned().collect();
    assert_eq!(start.authorize_url.path(), "/oauth2/authorize");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(query["code_challenge"].len() >= 43);
    assert_eq!(query["redirect_uri"], s.app.url("/callback"));
    let scopes: Vec<_> = query["scope"].split(' ').collect();
    for scope in ["openid", "profile", "email", "offline_access"] {
        assert!(
            scopes.contains(&scope),
            "scope {scope} requested: {scopes:?}"
        );
    }

    let claims = s.provider.claims(&start.nonce, ACCESS_TOKEN);
    s.provider
        .respond_with_tokens(&s.key.sign(&s.key.kid, &claims), ACCESS_TOKEN);
    // FusionAuth appends `locale` and `userState`: they must not disturb the callback.
    let response = s
        .app
        .callback(&[
            ("code", "the-code"),
            ("locale", "en"),
            ("state", &start.state),
            ("userState", "Authenticated"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/");
    let cookies = cookie_header(&response);
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("fa_leptos_session="))
        .expect("the session cookie is (re)issued at login");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(
        !session_cookie.contains("Secure"),
        "plain-http APP_URL: {session_cookie}"
    );

    // The token request: the code, the PKCE verifier, our redirect URI, HTTP Basic client auth.
    let token_requests = s.provider.requests_to("/oauth2/token").await;
    assert_eq!(token_requests.len(), 1);
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&token_requests[0].body)
            .into_owned()
            .collect();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["redirect_uri"], s.app.url("/callback"));
    assert!(form["code_verifier"].len() >= 43);
    let auth = token_requests[0]
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .expect("client authentication");
    assert!(auth.starts_with("Basic "));

    let page = s.app.home_page().await;
    assert!(page.contains("You are logged in as"));
    assert!(page.contains("richard@example.com"));
    assert!(page.contains("Here is your OpenID profile"));
    assert!(
        page.contains("authenticationType"),
        "FusionAuth's own claims are shown"
    );
    assert!(!support::app::contains_jwt(&page), "the page leaks a JWT");
    for secret in [ACCESS_TOKEN, "refresh-token-value", CLIENT_SECRET] {
        assert!(!page.contains(secret), "the page leaks {secret:?}");
    }

    let response = s
        .app
        .browser
        .post(s.app.url("/auth/logout"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let logout = url::Url::parse(location(&response)).expect("absolute URL");
    assert_eq!(logout.path(), "/oauth2/logout");
    let query: std::collections::HashMap<_, _> = logout.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["post_logout_redirect_uri"], s.app.url("/logout"));
    assert!(query["id_token_hint"].starts_with("eyJ"));
    assert!(!query["state"].is_empty());
    s.app.assert_guest().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_channel_logout_ends_the_session_and_is_idempotent() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    s.app.assert_logged_in_as("richard@example.com").await;
    for _ in 0..2 {
        let response = s.app.get("/logout").await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(location(&response), "/");
    }
    s.app.assert_guest().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_page_sends_a_guest_through_login_and_back() {
    let s = setup().await;
    let response = s.app.get("/profile").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/login?return_to=%2Fprofile");

    let response = s.login_returning_to("/profile").await;
    assert_eq!(location(&response), "/profile");
    let response = s.app.get("/profile").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("richard@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn return_to_pointing_off_site_is_replaced_by_home() {
    let s = setup().await;
    for evil in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
    ] {
        let response = s.login_returning_to(evil).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(location(&response), "/", "{evil:?} must not be followed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_without_state_is_rejected() {
    let s = setup().await;
    s.app.start_login("/").await;
    let response = s.app.callback(&[("code", "c")]).await;
    s.assert_rejected(response, 400, "Login failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_with_wrong_state_is_rejected() {
    let s = setup().await;
    s.app.start_login("/").await;
    let response = s
        .app
        .callback(&[("code", "c"), ("state", "forged-state")])
        .await;
    let page = assert_error_page(response, 400, "Login failed").await;
    assert!(page.contains("does not belong to the login started in this browser"));
    assert!(
        s.provider.requests_to("/oauth2/token").await.is_empty(),
        "no code exchange"
    );
    s.assert_no_session_created().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_without_a_login_in_this_browser_is_rejected() {
    let s = setup().await;
    let response = s.app.callback(&[("code", "c"), ("state", "s")]).await;
    s.assert_rejected(response, 400, "Login failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_state_is_rejected() {
    let s = setup().await;
    let start = s.app.start_login("/").await;
    let claims = s.provider.claims(&start.nonce, ACCESS_TOKEN);
    s.provider
        .respond_with_tokens(&s.key.sign(&s.key.kid, &claims), ACCESS_TOKEN);
    let query = [("code", "c"), ("state", start.state.as_str())];
    assert_eq!(s.app.callback(&query).await.status(), StatusCode::FOUND);

    // The same callback again, in the same browser and in an attacker's.
    let again = s.app.callback(&query).await;
    assert_error_page(again, 400, "Login failed").await;
    s.app.assert_logged_in_as("richard@example.com").await;

    let attacker = support::app::browser();
    let response = attacker
        .get(s.app.url("/callback"))
        .query(&query)
        .send()
        .await
        .expect("request");
    assert_error_page(response, 400, "Login failed").await;
    let page = attacker
        .get(s.app.url("/"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(page.contains("Hello Guest"));
    assert_eq!(s.provider.requests_to("/oauth2/token").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_pending_login_is_rejected() {
    let s = setup_with(Some(Duration::ZERO)).await;
    let start = s.app.start_login("/").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = s
        .app
        .callback(&[("code", "c"), ("state", &start.state)])
        .await;
    let page = s.assert_rejected(response, 400, "Login failed").await;
    assert!(page.contains("expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_access_denied_shows_cancelled_page() {
    let s = setup().await;
    let start = s.app.start_login("/").await;
    let response = s
        .app
        .callback(&[
            ("error", "access_denied"),
            ("error_description", "<script>alert(1)</script>"),
            ("state", &start.state),
        ])
        .await;
    let page = assert_error_page(response, 403, "Login cancelled").await;
    assert!(
        !page.contains("<script>alert(1)"),
        "provider text is not echoed"
    );
    s.assert_no_session_created().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_code_rejected_by_the_provider_is_a_client_error() {
    let s = setup().await;
    let start = s.app.start_login("/").await;
    s.provider
        .respond_to_token_request(wiremock::ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "The authorization code has already been used."
        })));
    let response = s
        .app
        .callback(&[("code", "used-code"), ("state", &start.state)])
        .await;
    s.assert_rejected(response, 400, "Login failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_token_with_bad_signature_is_rejected() {
    let s = setup().await;
    // Signed with key B while claiming to be key A.
    let response = s.login_with(&key_b(), &s.key.kid, |_| {}).await;
    s.assert_rejected(response, 502, "The login could not be verified")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_token_with_unknown_kid_is_rejected_after_one_jwks_refetch() {
    let s = setup().await;
    let response = s.login_with(&key_b(), "key-b", |_| {}).await;
    assert_error_page(response, 502, "The login could not be verified").await;
    assert_eq!(
        s.provider.requests_to("/.well-known/jwks.json").await.len(),
        2,
        "the JWKS is fetched at discovery and once more for the unknown kid"
    );
    s.assert_no_session_created().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_signing_key_is_accepted_after_jwks_refetch() {
    let s = setup().await;
    // Discovery happens with key A only; then the provider rotates to key B.
    s.app.start_login("/").await;
    let b = key_b();
    s.provider.publish_keys(&[&s.key, &b]);
    let response = s.login_with(&b, "key-b", |_| {}).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    s.app.assert_logged_in_as("richard@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_token_from_another_issuer_is_rejected() {
    let s = setup().await;
    let response = s
        .login_editing(|c| c["iss"] = json!("https://evil.example"))
        .await;
    s.assert_rejected(response, 502, "The login could not be verified")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_token_for_another_audience_is_rejected() {
    let s = setup().await;
    let response = s
        .login_editing(|c| c["aud"] = json!("another-client"))
        .await;
    s.assert_rejected(response, 502, "The login could not be verified")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_id_token_is_rejected() {
    let s = setup().await;
    let response = s
        .login_editing(|c| {
            c["iat"] = json!(now() - 7200);
            c["exp"] = json!(now() - 600);
        })
        .await;
    s.assert_rejected(response, 502, "The login could not be verified")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_token_expired_within_the_clock_skew_is_accepted() {
    let s = setup().await;
    let response = s.login_editing(|c| c["exp"] = json!(now() - 10)).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    s.app.assert_logged_in_as("richard@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_token_with_wrong_nonce_is_rejected() {
    let s = setup().await;
    let response = s
        .login_editing(|c| c["nonce"] = json!("another-login"))
        .await;
    s.assert_rejected(response, 400, "Login failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_token_with_bad_at_hash_is_rejected() {
    let s = setup().await;
    let response = s
        .login_editing(|c| c["at_hash"] = json!(support::provider::at_hash("another-access-token")))
        .await;
    s.assert_rejected(response, 502, "The login could not be verified")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hs256_id_token_signed_with_the_client_secret_is_rejected() {
    let s = setup().await;
    let start = s.app.start_login("/").await;
    let claims = s.provider.claims(&start.nonce, ACCESS_TOKEN);
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
    )
    .expect("sign");
    s.provider.respond_with_tokens(&forged, ACCESS_TOKEN);
    let response = s
        .app
        .callback(&[("code", "c"), ("state", &start.state)])
        .await;
    s.assert_rejected(response, 502, "The login could not be verified")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_response_without_id_token_is_a_provider_error() {
    let s = setup().await;
    let start = s.app.start_login("/").await;
    s.provider.respond_to_token_request(
        wiremock::ResponseTemplate::new(200)
            .set_body_json(json!({"access_token": "a", "token_type": "Bearer", "expires_in": 60})),
    );
    let response = s
        .app
        .callback(&[("code", "c"), ("state", &start.state)])
        .await;
    s.assert_rejected(response, 502, "The login could not be verified")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_down_shows_503_and_the_server_keeps_serving() {
    // A port nothing listens on: bind one, then free it.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        listener.local_addr().expect("addr").port()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(AppSettings {
        issuer: format!("http://127.0.0.1:{closed}"),
        session_db: dir.path().join("sessions.db"),
        login_timeout: None,
    })
    .await;
    app.assert_guest().await;
    for _ in 0..2 {
        let response = app.get("/login?return_to=%2F").await;
        let page = assert_error_page(response, 503, "Login is unavailable right now").await;
        assert!(page.contains("cannot be reached"));
    }
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_answering_garbage_shows_502() {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_string("<html>not json</html>"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(AppSettings {
        issuer: server.uri(),
        session_db: dir.path().join("sessions.db"),
        login_timeout: None,
    })
    .await;
    let response = app.get("/login").await;
    assert_error_page(response, 502, "The login could not be verified").await;
    app.assert_guest().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_with_another_issuer_is_refused() {
    // The trap in fusionauth.md: FusionAuth's default issuer is `acme.com`.
    let server = wiremock::MockServer::start().await;
    let issuer = server.uri();
    wiremock::Mock::given(wiremock::matchers::path(
        "/.well-known/openid-configuration",
    ))
    .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
        "issuer": "acme.com",
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    })))
    .mount(&server)
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(AppSettings {
        issuer,
        session_db: dir.path().join("sessions.db"),
        login_timeout: None,
    })
    .await;
    assert_error_page(
        app.get("/login").await,
        502,
        "The login could not be verified",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_and_jwks_are_fetched_once_for_many_logins() {
    let s = setup().await;
    for _ in 0..3 {
        assert_eq!(s.login().await.status(), StatusCode::FOUND);
    }
    assert_eq!(
        s.provider
            .requests_to("/.well-known/openid-configuration")
            .await
            .len(),
        1
    );
    assert_eq!(
        s.provider.requests_to("/.well-known/jwks.json").await.len(),
        1
    );
    assert_eq!(s.provider.requests_to("/oauth2/token").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_renews_the_session_id() {
    let s = setup().await;
    let response = s.app.get("/login?return_to=%2F").await;
    let before = session_cookie(&response).expect("a session starts with the login");
    let authorize = url::Url::parse(location(&response)).expect("authorize URL");
    let query: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    let claims = s.provider.claims(&query["nonce"], ACCESS_TOKEN);
    s.provider
        .respond_with_tokens(&s.key.sign(&s.key.kid, &claims), ACCESS_TOKEN);
    let response = s
        .app
        .callback(&[("code", "c"), ("state", &query["state"])])
        .await;
    let after = session_cookie(&response).expect("a new cookie at login");
    assert_ne!(
        before, after,
        "session fixation: the id must change at login"
    );
}

/// `name=value` of the session cookie a response sets.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    cookie_header(response)
        .into_iter()
        .find(|c| c.starts_with("fa_leptos_session="))
        .and_then(|c| c.split(';').next().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_an_app_restart() {
    let key = key_a();
    let provider = TestProvider::start(&[&key]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = || AppSettings {
        issuer: provider.issuer.clone(),
        session_db: dir.path().join("sessions.db"),
        login_timeout: None,
    };
    let first = spawn_app(settings()).await;
    let start = first.start_login("/").await;
    let claims = provider.claims(&start.nonce, ACCESS_TOKEN);
    provider.respond_with_tokens(&key.sign(&key.kid, &claims), ACCESS_TOKEN);
    let response = first
        .callback(&[("code", "c"), ("state", &start.state)])
        .await;
    let cookie = session_cookie(&response).expect("session cookie");
    drop(first);

    let second = spawn_app(settings()).await;
    let page = support::app::browser()
        .get(second.url("/"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("You are logged in as"),
        "still logged in after a restart: {page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_session_cookie_is_ignored() {
    let s = setup().await;
    let page = support::app::browser()
        .get(s.app.url("/"))
        .header(reqwest::header::COOKIE, "fa_leptos_session=forged-id")
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(page.contains("Hello Guest"));
}

/// Breaks the session store under the running app.
async fn drop_sessions_table(app: &TestApp) {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&app.session_db);
    let mut connection = sqlx::ConnectOptions::connect(&options)
        .await
        .expect("open the store");
    sqlx::query("DROP TABLE tower_sessions")
        .execute(&mut connection)
        .await
        .expect("drop the sessions table");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_store_failure_shows_an_error_page_and_the_server_keeps_serving() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    drop_sessions_table(&s.app).await;

    let response = s.app.get("/").await;
    assert_error_page(response, 500, "Something went wrong").await;
    assert_eq!(s.app.get("/healthz").await.status(), StatusCode::OK);
}

/// A guest's `/login` reads nothing from the store but must save the pending login: the
/// failure comes after the page rendered, when the session layer saves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_save_failure_shows_an_error_page_not_a_redirect() {
    let s = setup().await;
    drop_sessions_table(&s.app).await;

    let response = s.app.get("/login").await;
    assert!(
        response.headers().get(reqwest::header::LOCATION).is_none(),
        "no redirect to the provider without a saved pending login"
    );
    assert!(
        response
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .is_none(),
        "no session cookie for a session that was not saved"
    );
    assert_error_page(response, 500, "Something went wrong").await;
    assert_eq!(s.app.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_guest_page_is_never_served_to_a_logged_in_user() {
    let s = setup().await;
    let first = s.app.home_page().await;
    let second = s.app.home_page().await;
    assert!(first.contains("Hello Guest"));
    assert_eq!(first, second, "guests share one rendering");

    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    s.app.assert_logged_in_as("richard@example.com").await;
    // A query string or another method bypasses the cache too.
    let response = s.app.get("/?from=test").await;
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("You are logged in as"));
}

/// Building a router (tests do it per app; an embedding app may too) must never stall pages
/// that other routers in the process are rendering. Leptos suspends every resource in the
/// process while it generates a route list, so the app generates it only once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn building_another_router_never_stalls_pages_being_rendered() {
    let s = setup().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let builder = {
        let issuer = s.provider.issuer.clone();
        let dir = dir.path().to_owned();
        let done = done.clone();
        tokio::spawn(async move {
            for i in 0..60 {
                drop(
                    spawn_app(AppSettings {
                        issuer: issuer.clone(),
                        session_db: dir.join(format!("sessions-{i}.db")),
                        login_timeout: None,
                    })
                    .await,
                );
            }
            done.store(true, std::sync::atomic::Ordering::Relaxed);
        })
    };
    // Browsers render the home page meanwhile. A query string skips the guest-page cache,
    // so each request renders the page and runs its resource (the current user).
    let browsers: Vec<_> = (0..4)
        .map(|b| {
            let client = support::app::browser();
            let base = s.app.base.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut n = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let response = tokio::time::timeout(
                        Duration::from_secs(10),
                        client.get(format!("{base}/?b={b}&n={n}")).send(),
                    )
                    .await
                    .unwrap_or_else(|_| panic!("a page stalled while routers were being built"))
                    .expect("request");
                    assert_eq!(response.status(), StatusCode::OK);
                    n += 1;
                }
                n
            })
        })
        .collect();
    builder.await.expect("routers build");
    for browser in browsers {
        assert!(browser.await.expect("browser finishes") > 0);
    }
}

/// A static file served while a page is being rendered must not take that page's status or
/// headers: the login's redirect stays on the login, and the file stays a plain 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_never_take_a_concurrent_pages_redirect() {
    let s = setup().await;
    let logins = {
        let app_base = s.app.base.clone();
        tokio::spawn(async move {
            let mut missing = 0;
            for _ in 0..150 {
                // A fresh browser each time: every /login renders and redirects.
                let response = support::app::browser()
                    .get(format!("{app_base}/login?return_to=%2F"))
                    .send()
                    .await
                    .expect("request");
                if response.status() != StatusCode::FOUND
                    || response.headers().get(reqwest::header::LOCATION).is_none()
                {
                    missing += 1;
                }
            }
            missing
        })
    };
    let files: Vec<_> = (0..2)
        .map(|_| {
            let client = support::app::browser();
            let base = s.app.base.clone();
            tokio::spawn(async move {
                let mut wrong = Vec::new();
                for _ in 0..300 {
                    for path in ["/favicon.svg", "/pkg/fusionauth-leptos.css"] {
                        let response = client
                            .get(format!("{base}{path}"))
                            .send()
                            .await
                            .expect("request");
                        if response.status() != StatusCode::OK
                            || response.headers().get(reqwest::header::LOCATION).is_some()
                        {
                            wrong.push(format!(
                                "{path}: {} {:?}",
                                response.status(),
                                response.headers().get(reqwest::header::LOCATION)
                            ));
                        }
                    }
                }
                wrong
            })
        })
        .collect();
    let mut wrong = Vec::new();
    for file in files {
        wrong.extend(file.await.expect("files"));
    }
    assert_eq!(
        logins.await.expect("logins"),
        0,
        "logins without a redirect"
    );
    assert_eq!(
        wrong,
        Vec::<String>::new(),
        "static files with another request's answer"
    );
    let favicon = s.app.get("/favicon.svg").await;
    assert_eq!(favicon.text().await.expect("body"), support::app::FAVICON);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_get_the_not_found_page() {
    let s = setup().await;
    for path in ["/no-such-page", "/pkg/no-such-file.js", "/callback/extra"] {
        let response = s.app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            response.headers().get(reqwest::header::CACHE_CONTROL),
            Some(&reqwest::header::HeaderValue::from_static("no-store")),
            "{path}"
        );
        let page = response.text().await.expect("body");
        assert!(page.contains("Page not found"), "{path}: {page}");
        assert!(page.contains("Back to start"), "{path}");
    }
}
