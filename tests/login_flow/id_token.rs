//! The id_token: signature (RS256 only, JWKS rotation), issuer, audience, expiry with skew,
//! nonce and at_hash (openid-client's `invalid-iss`, `invalid-nonce`, … family).

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{
    app::assert_error_page,
    provider::{at_hash, key_b, now, CLIENT_ID, CLIENT_SECRET},
    setup, setup_with_vars, ACCESS_TOKEN, EMAIL,
};

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
    s.app.assert_logged_in_as(EMAIL).await;
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

/// Kickstarts in the wild spell the application id in upper case; FusionAuth writes it in
/// lower case into `aud`. The id is a UUID: the case does not matter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_id_configured_in_upper_case_matches_the_tokens_audience() {
    let upper = CLIENT_ID.to_ascii_uppercase();
    let s = setup_with_vars(&[("CLIENT_ID", &upper)], |_| {}).await;
    let start = s.app.start_login("/").await;
    let query: std::collections::HashMap<_, _> =
        start.authorize_url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(s.finish(&start).await.status(), StatusCode::FOUND);
    s.app.assert_logged_in_as(EMAIL).await;
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
    s.app.assert_logged_in_as(EMAIL).await;
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
        .login_editing(|c| c["at_hash"] = json!(at_hash("another-access-token")))
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
