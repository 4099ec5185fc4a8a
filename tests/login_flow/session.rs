//! The session: survives restarts, shrugs off tampering and old shapes, fails visibly when
//! the store fails, keeps cleaning up after a failure, and keeps its file private.

use std::time::Duration;

use reqwest::{header, StatusCode};
use serde_json::json;
use tower_sessions::session::Record;

use crate::support::{
    app::{
        assert_error_page, browser, cookie_pair, is_removal, location, page_with_cookie,
        set_cookie, set_cookies, spawn_app, start_login_in, AppSettings, TestApp,
    },
    provider::{key_a, TestProvider},
    setup, setup_with, setup_with_vars, ACCESS_TOKEN, EMAIL,
};

/// `name=value` of the session cookie a response sets.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    set_cookie(&set_cookies(response), "fa_leptos_session")
        .map(cookie_pair)
        .map(str::to_owned)
}

/// A login on an app that is then stopped: the provider, the app's data directory and the
/// browser's session cookie, for the app that starts next.
async fn logged_in_then_stopped() -> (TestProvider, tempfile::TempDir, String) {
    let key = key_a();
    let provider = TestProvider::start(&[&key]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(AppSettings::new(&provider.issuer, &dir)).await;
    let start = app.start_login("/").await;
    let claims = provider.claims(&start.nonce, ACCESS_TOKEN);
    provider.respond_with_tokens(&key.sign(&key.kid, &claims), ACCESS_TOKEN);
    let response = app
        .callback(&[("code", "c"), ("state", &start.state)])
        .await;
    let cookie = session_cookie(&response).expect("session cookie");
    (provider, dir, cookie)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_an_app_restart() {
    let (provider, dir, cookie) = logged_in_then_stopped().await;

    let second = spawn_app(AppSettings::new(&provider.issuer, &dir)).await;
    let page = page_with_cookie(&second, "/", &cookie).await;
    assert!(
        page.contains("You are logged in as"),
        "still logged in after a restart: {page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_session_cookie_is_ignored() {
    let s = setup().await;
    let page = page_with_cookie(&s.app, "/", "fa_leptos_session=forged-id").await;
    assert!(page.contains("Hello Guest"));
}

/// Breaks the session store under the running app.
async fn drop_sessions_table(app: &TestApp) {
    sqlx::query("DROP TABLE tower_sessions")
        .execute(&mut app.store_connection().await)
        .await
        .expect("drop the sessions table");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_store_failure_shows_an_error_page_and_the_server_keeps_serving() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    drop_sessions_table(&s.app).await;

    let response = s.app.get("/").await;
    assert_error_page(response, 503, "Sessions are unavailable right now").await;
    assert_eq!(s.app.get("/healthz").await.status(), StatusCode::OK);
}

/// The session is saved after the callback's page rendered: when that fails, the user gets
/// the error page, no redirect and no session cookie, and the attempt is used up all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_save_failure_shows_an_error_page_not_a_redirect() {
    let s = setup().await;
    let start = s.app.start_login("/").await;
    s.issue_tokens_for(&start.nonce);
    drop_sessions_table(&s.app).await;

    let response = s
        .app
        .callback(&[("code", "c"), ("state", &start.state)])
        .await;
    assert!(
        response.headers().get(header::LOCATION).is_none(),
        "no redirect into the app without a saved session"
    );
    let cookies = set_cookies(&response);
    assert!(
        set_cookie(&cookies, "fa_leptos_session").is_none(),
        "no session cookie for a session that was not saved: {cookies:?}"
    );
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("fa_login.") && is_removal(c)),
        "the attempt's cookie is removed all the same: {cookies:?}"
    );
    assert_error_page(response, 503, "Sessions are unavailable right now").await;
    assert_eq!(s.app.get("/healthz").await.status(), StatusCode::OK);
}

/// Rewrites every stored session: its record, opened with the app's key, `edit`ed, then
/// sealed by `sealer` (another key, or the app's own as every release since encryption at
/// rest seals).
async fn rewrite_stored_records(
    app: &TestApp,
    sealer: &axum_oidc_sessions::store::Sealer,
    edit: impl Fn(&mut Record),
) {
    let mut db = app.store_connection().await;
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT id, data FROM tower_sessions")
        .fetch_all(&mut db)
        .await
        .expect("read sessions");
    assert!(!rows.is_empty(), "a stored session to rewrite");
    for (id, data) in rows {
        let sealed: Record = rmp_serde::from_slice(&data).expect("a record");
        let mut record = app.sealer().open(sealed).expect("opens with the app's key");
        edit(&mut record);
        let sealed = sealer.seal(&record).expect("seals");
        sqlx::query("UPDATE tower_sessions SET data = ? WHERE id = ?")
            .bind(rmp_serde::to_vec(&sealed).expect("encodes"))
            .bind(id)
            .execute(&mut db)
            .await
            .expect("rewrite the session");
    }
}

/// Rewrites the logged-in user of every stored session with `edit`, as an older release
/// would have stored it.
async fn rewrite_stored_user(app: &TestApp, edit: impl Fn(&mut serde_json::Value)) {
    rewrite_stored_records(app, &app.sealer(), |record| {
        edit(record.data.get_mut("auth.user").expect("a logged-in user"))
    })
    .await;
}

/// A release that renames a field of the stored user must not lock anybody out: a session
/// of the old shape counts as no session, on every page and on Logout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_of_an_older_release_are_dropped_not_a_500() {
    let s = setup().await;
    let old_shape = |user: &mut serde_json::Value| {
        let claims = user["claims"].take();
        *user = json!({ "profile": claims, "token": "old", "expires": 1 });
    };

    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    rewrite_stored_user(&s.app, old_shape).await;
    let response = s.app.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(set_cookie(&set_cookies(&response), "fa_leptos_session").is_some_and(is_removal));
    assert!(response.text().await.expect("body").contains("Hello Guest"));
    assert_eq!(
        s.app.stored_sessions().await,
        0,
        "the unreadable session is deleted"
    );

    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    rewrite_stored_user(&s.app, old_shape).await;
    let response = s.app.get("/profile").await;
    assert_eq!(location(&response), "/login?return_to=%2Fprofile");

    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    rewrite_stored_user(&s.app, old_shape).await;
    assert_eq!(s.app.get("/login").await.status(), StatusCode::FOUND);
    let response = s.app.logout().await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).contains("/oauth2/logout?"));
    assert_eq!(s.app.stored_sessions().await, 0);

    // And the user logs in again as usual.
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    s.app.assert_logged_in_as(EMAIL).await;
}

/// Records stored before encryption at rest (plaintext) are not trusted: whoever could write
/// the store could forge one. They count as no session, and the user logs in again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_sessions_from_before_encryption_at_rest_count_as_no_session() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let sealer = s.app.sealer();
    let mut db = s.app.store_connection().await;
    let (id, data): (String, Vec<u8>) = sqlx::query_as("SELECT id, data FROM tower_sessions")
        .fetch_one(&mut db)
        .await
        .expect("one session");
    let sealed: Record = rmp_serde::from_slice(&data).expect("a record");
    let plain = sealer.open(sealed).expect("opens");
    sqlx::query("UPDATE tower_sessions SET data = ? WHERE id = ?")
        .bind(rmp_serde::to_vec(&plain).expect("encodes"))
        .bind(id)
        .execute(&mut db)
        .await
        .expect("write plaintext");
    s.app.assert_guest().await;
    assert_eq!(s.app.stored_sessions().await, 0);
}

/// A stored record that does not decode at all (another store format) is no session either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_session_record_counts_as_no_session() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    sqlx::query("UPDATE tower_sessions SET data = X'C1C1C1'")
        .execute(&mut s.app.store_connection().await)
        .await
        .expect("corrupt");
    s.app.assert_guest().await;
    assert_eq!(s.app.stored_sessions().await, 0);
}

/// One failed cleanup (here: the table is gone for a moment) must not end cleanup for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cleanup_goes_on_after_a_store_failure() {
    let s = setup_with(|c| c.oidc.sessions.cleanup_interval = Duration::from_millis(100)).await;
    drop_sessions_table(&s.app).await;
    // Long enough for a few cleanups to fail.
    tokio::time::sleep(Duration::from_millis(400)).await;

    let mut db = s.app.store_connection().await;
    sqlx::query(
        "CREATE TABLE tower_sessions (id TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL, expiry_date INTEGER NOT NULL)",
    )
    .execute(&mut db)
    .await
    .expect("the table is back");
    sqlx::query("INSERT INTO tower_sessions VALUES ('expired', X'00', 0)")
        .execute(&mut db)
        .await
        .expect("an expired session");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while s.app.stored_sessions().await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "cleanup never resumed after its failure"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The store holds tokens: only the app's user may read it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_store_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let key = key_a();
    let provider = TestProvider::start(&[&key]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = AppSettings::new(&provider.issuer, &dir);
    settings.session_db = dir.path().join("new-dir/sessions.db");
    let app = spawn_app(settings).await;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&dir.path().join("new-dir")), 0o700);
    assert_eq!(mode(&app.session_db), 0o600);

    let start = app.start_login("/").await;
    let claims = provider.claims(&start.nonce, ACCESS_TOKEN);
    provider.respond_with_tokens(&key.sign(&key.kid, &claims), ACCESS_TOKEN);
    app.callback(&[("code", "c"), ("state", &start.state)])
        .await;
    assert_eq!(mode(&dir.path().join("new-dir/sessions.db-wal")), 0o600);

    // A file an earlier release left readable is narrowed at start-up.
    drop(app);
    std::fs::set_permissions(
        dir.path().join("new-dir/sessions.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let mut settings = AppSettings::new(&provider.issuer, &dir);
    settings.session_db = dir.path().join("new-dir/sessions.db");
    let app = spawn_app(settings).await;
    assert_eq!(mode(&app.session_db), 0o600);
}

/// Over https, every cookie is Secure, and the names carry the prefixes that make browsers
/// enforce it: `__Host-` for the session (no sibling subdomain can plant it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_app_url_gives_secure_prefixed_cookies() {
    let s = setup_with_vars(&[("APP_URL", "https://app.example")], |_| {}).await;
    let start = start_login_in(&browser(), &s.app, "/").await;
    let pending = start
        .cookies
        .iter()
        .find(|c| c.starts_with("__Secure-fa_login."))
        .expect("a __Secure- pending-login cookie");
    assert!(pending.contains("; Secure"), "{pending}");

    s.issue_tokens_for(&start.nonce);
    // The client speaks plain http, so it would not send Secure cookies by itself.
    let response = browser()
        .get(s.app.url("/callback"))
        .query(&[("code", "c"), ("state", start.state.as_str())])
        .header(header::COOKIE, start.attempt_cookie())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::FOUND);
    let cookies = set_cookies(&response);
    let session = set_cookie(&cookies, "__Host-fa_leptos_session").expect("a __Host- session");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert!(!session.contains("Domain"), "{session}");
}

/// `APP_SECRET_KEY` rotates without logging anybody out: with the old secret as
/// `APP_SECRET_KEY_PREVIOUS`, a session from before still works, its cookie is re-signed,
/// and the re-signed cookie works too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_key_logs_nobody_out() {
    let (provider, dir, old_cookie) = logged_in_then_stopped().await;

    let rotated = AppSettings::new(&provider.issuer, &dir)
        .with_var(
            "APP_SECRET_KEY",
            "the-new-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        )
        .with_var("APP_SECRET_KEY_PREVIOUS", crate::support::app::SECRET_KEY);
    let after = spawn_app(rotated.clone()).await;
    let response = after
        .browser
        .get(after.url("/"))
        .header(header::COOKIE, &old_cookie)
        .send()
        .await
        .expect("request");
    let new_cookie = session_cookie(&response).expect("the cookie is re-signed");
    assert_ne!(new_cookie, old_cookie);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("You are logged in as"));
    let page = page_with_cookie(&after, "/", &new_cookie).await;
    assert!(page.contains("You are logged in as"), "{page}");

    // Without the previous key, the old signature is worthless.
    drop(after);
    let forgotten = spawn_app(AppSettings::new(&provider.issuer, &dir).with_var(
        "APP_SECRET_KEY",
        "the-new-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    ))
    .await;
    let page = page_with_cookie(&forgotten, "/", &old_cookie).await;
    assert!(page.contains("Hello Guest"), "{page}");
}

/// The response leaves the browser's session cookie alone, and the record stays stored.
async fn assert_guest_and_record_kept(app: &TestApp) {
    let response = app.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        set_cookie(&set_cookies(&response), "fa_leptos_session").is_none(),
        "the cookie is neither removed nor replaced"
    );
    assert!(response.text().await.expect("body").contains("Hello Guest"));
    assert_eq!(
        app.stored_sessions().await,
        1,
        "the record is left in the store"
    );
}

/// During a rolling rotation of `APP_SECRET_KEY`, a replica that does not have the new key
/// yet meets records sealed with it: no session for that request, and nothing deleted (the
/// replicas that have the key still serve the user).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_sealed_with_a_key_this_replica_lacks_is_left_in_the_store() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let unknown = axum_oidc_sessions::store::Sealer::new(&[7; 32], &[]);
    rewrite_stored_records(&s.app, &unknown, |_| {}).await;
    assert_guest_and_record_kept(&s.app).await;
    assert_guest_and_record_kept(&s.app).await;
}

/// During a rolling upgrade, an older replica meets a session written by a newer release:
/// no session for that request, and nothing deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_written_by_a_newer_release_is_left_in_the_store() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let sealer = s.app.sealer();
    rewrite_stored_records(&s.app, &sealer, |record| {
        let user = record.data.get_mut("auth.user").expect("a user");
        *user = json!({ "identity": user["claims"].take(), "tokens": {} });
        record.data.insert("auth.schema".to_owned(), json!(99));
    })
    .await;
    assert_guest_and_record_kept(&s.app).await;
    // Logout still works and does delete it: the user asked for that.
    assert_eq!(s.app.logout().await.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.app.stored_sessions().await, 0);
}
