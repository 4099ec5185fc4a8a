//! A stand-in OpenID provider the tests control: wiremock serving discovery, JWKS and the
//! token endpoint, signing id_tokens with the RSA keys in `tests/fixtures`.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex,
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::{pkcs8::DecodePrivateKey, traits::PublicKeyParts, RsaPrivateKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, Request, Respond, ResponseTemplate,
};

/// A FusionAuth application id: a UUID, in lower case as FusionAuth writes it into `aud`.
pub const CLIENT_ID: &str = "3c219e58-ed0e-4b18-ad48-f4f92793ae32";
pub const CLIENT_SECRET: &str = "test-client-secret-that-is-long-enough";
/// The kickstart's demo user (FusionAuth sets no `preferred_username` without a username).
pub const USER_ID: &str = "00000000-0000-0000-0000-111111111111";

#[derive(Clone)]
pub struct TestKey {
    pub kid: String,
    encoding: EncodingKey,
    pub jwk: Value,
}

impl TestKey {
    pub fn load(kid: &str, pem: &str) -> Self {
        let private = RsaPrivateKey::from_pkcs8_pem(pem).expect("fixture key parses");
        let jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        });
        Self {
            kid: kid.to_owned(),
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("fixture key loads"),
            jwk,
        }
    }

    /// Signs `claims` with this key, announcing `kid` in the header.
    pub fn sign(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing works")
    }
}

pub fn key_a() -> TestKey {
    TestKey::load("key-a", include_str!("../../fixtures/provider-key-a.pem"))
}

pub fn key_b() -> TestKey {
    TestKey::load("key-b", include_str!("../../fixtures/provider-key-b.pem"))
}

/// A response that the test can change while the server runs.
#[derive(Clone)]
struct Swappable(Arc<Mutex<ResponseTemplate>>);

impl Respond for Swappable {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.0.lock().expect("not poisoned").clone()
    }
}

pub struct TestProvider {
    pub server: MockServer,
    pub issuer: String,
    discovery: Swappable,
    jwks: Swappable,
    token: Swappable,
    /// `expires_in` of the tokens a login gets.
    token_lifetime: AtomicU64,
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// `at_hash` for an RS256 id_token: left half of SHA-256, base64url.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

impl TestProvider {
    /// Serves discovery and a JWKS holding `keys`.
    pub async fn start(keys: &[&TestKey]) -> Self {
        Self::start_with_discovery(keys, |_| {}).await
    }

    /// Like [`Self::start`], with the discovery document changed by `edit` first.
    pub async fn start_with_discovery(keys: &[&TestKey], edit: impl FnOnce(&mut Value)) -> Self {
        let server = MockServer::start().await;
        let issuer = server.uri();
        let mut discovery = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
            "token_endpoint": format!("{issuer}/oauth2/token"),
            "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
            "end_session_endpoint": format!("{issuer}/oauth2/logout"),
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "HS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "offline_access"],
        });
        edit(&mut discovery);
        let discovery = Swappable(Arc::new(Mutex::new(
            ResponseTemplate::new(200).set_body_json(discovery),
        )));
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(discovery.clone())
            .mount(&server)
            .await;
        let jwks = Swappable(Arc::new(Mutex::new(ResponseTemplate::new(200))));
        Mock::given(method("GET"))
            .and(path("/.well-known/jwks.json"))
            .respond_with(jwks.clone())
            .mount(&server)
            .await;
        let token = Swappable(Arc::new(Mutex::new(ResponseTemplate::new(500))));
        Mock::given(method("POST"))
            .and(path("/oauth2/token"))
            .respond_with(token.clone())
            .mount(&server)
            .await;
        let provider = Self {
            server,
            issuer,
            discovery,
            jwks,
            token,
            token_lifetime: AtomicU64::new(3599),
        };
        provider.publish_keys(keys);
        provider
    }

    pub fn publish_keys(&self, keys: &[&TestKey]) {
        let body = json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() });
        *self.jwks.0.lock().expect("not poisoned") = ResponseTemplate::new(200).set_body_json(body);
    }

    /// Discovery and the JWKS answer after `delay` from now on (a slow provider).
    pub fn set_discovery_delay(&self, delay: std::time::Duration) {
        for swappable in [&self.discovery, &self.jwks] {
            let mut response = swappable.0.lock().expect("not poisoned");
            *response = response.clone().set_delay(delay);
        }
    }

    /// The claims FusionAuth puts in an id_token for the demo user.
    pub fn claims(&self, nonce: &str, access_token: &str) -> Value {
        let now = now();
        json!({
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": USER_ID,
            "exp": now + 3600,
            "iat": now,
            "auth_time": now,
            "nonce": nonce,
            "at_hash": at_hash(access_token),
            "email": "richard@example.com",
            "email_verified": true,
            "name": "Richard Hendricks",
            "tid": "d7d09513-a3f5-401c-9685-34ab6c552453",
            "authenticationType": "PASSWORD",
        })
    }

    /// The token endpoint answers with these tokens (FusionAuth's response shape).
    pub fn respond_with_tokens(&self, id_token: &str, access_token: &str) {
        let body = json!({
            "access_token": access_token,
            "expires_in": self.token_lifetime.load(Ordering::Relaxed),
            "id_token": id_token,
            "refresh_token": "refresh-token-value",
            "refresh_token_id": "7b5b5b1e-0000-4000-8000-000000000000",
            "scope": "openid offline_access profile email",
            "token_type": "Bearer",
            "userId": USER_ID,
        });
        self.respond_to_token_request(ResponseTemplate::new(200).set_body_json(body));
    }

    /// Logins from now on get tokens that live `secs`.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.token_lifetime.store(secs, Ordering::Relaxed);
    }

    pub fn respond_to_token_request(&self, response: ResponseTemplate) {
        *self.token.0.lock().expect("not poisoned") = response;
    }

    /// Requests the provider received on `path`.
    pub async fn requests_to(&self, wanted: &str) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == wanted)
            .collect()
    }
}
