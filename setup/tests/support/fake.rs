//! A stand-in for the FusionAuth admin API endpoints `setup` calls, with FusionAuth's documented
//! shapes: raw API key in `Authorization`, 200 + JSON on success, 400 + `{fieldErrors,
//! generalErrors}`, empty 401/404 bodies, plain PATCH appending arrays and merge-patch
//! (`application/merge-patch+json`) replacing them, FusionAuth's defaults on what it creates
//! (no refresh tokens, `Reusable`/`Fixed` refresh tokens, HMAC secrets never returned), unique
//! key names, and webhooks whose signing key must exist. It keeps state, so a second run sees
//! what the first one wrote.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

pub const TENANT_ID: &str = "d7d09513-a3f5-401c-9685-34ab6c552453";
pub const USER_ID: &str = "00000000-0000-0000-0000-111111111111";
pub const FUSIONAUTH_APP_ID: &str = "3c219e58-ed0e-4b18-ad48-f4f92793ae32";

/// What the stand-in holds. Users and registrations are plain JSON, as FusionAuth returns them.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub api_key: String,
    pub tenants: Vec<Value>,
    pub keys: Vec<Value>,
    /// `(key id, secret)` of imported HMAC keys: FusionAuth stores the secret but never returns it.
    pub key_secrets: Vec<(String, String)>,
    pub applications: Vec<Value>,
    pub webhooks: Vec<Value>,
    pub users: Vec<Value>,
    pub registrations: Vec<(String, String)>,
    /// Answer every application create/update with this 400 body.
    pub reject_application: Option<Value>,
    /// Answer every webhook create/update with this 400 body.
    pub reject_webhook: Option<Value>,
    /// Answer every request with this status and an empty body.
    pub fail_all: Option<u16>,
}

impl State {
    /// A FusionAuth just set up through its setup wizard, as the tutorial has it: one tenant
    /// with the default issuer, every event disabled and the default revocation policy, HMAC
    /// keys only, no webhook, one user without a full name.
    pub fn pristine(api_key: &str) -> Self {
        let events: serde_json::Map<String, Value> = [
            "jwt.refresh",
            "jwt.refresh-token.revoke",
            "user.create",
            "user.deactivate",
            "user.delete",
        ]
        .iter()
        .map(|e| {
            (
                e.to_string(),
                json!({"enabled": false, "transactionType": "None"}),
            )
        })
        .collect();
        Self {
            api_key: api_key.to_owned(),
            tenants: vec![json!({
                "id": TENANT_ID, "name": "Default", "issuer": "acme.com",
                "eventConfiguration": {"events": events},
                "jwtConfiguration": {
                    "timeToLiveInSeconds": 3600,
                    "refreshTokenTimeToLiveInMinutes": 43200,
                    "refreshTokenRevocationPolicy": {
                        "onLoginPrevented": true, "onMultiFactorEnable": false,
                        "onOneTimeTokenReuse": false, "onPasswordChanged": true
                    }
                }
            })],
            keys: vec![
                json!({"id": "092dbedc-30af-4149-9c61-b578f2c72f59", "algorithm": "HS256", "type": "HMAC", "name": "Default signing key"}),
            ],
            applications: vec![
                json!({"id": FUSIONAUTH_APP_ID, "name": "FusionAuth", "tenantId": TENANT_ID}),
            ],
            users: vec![json!({
                "id": USER_ID, "email": "richard@example.com", "firstName": "Richard",
                "lastName": "Hendricks", "tenantId": TENANT_ID, "active": true
            })],
            registrations: vec![(USER_ID.to_owned(), FUSIONAUTH_APP_ID.to_owned())],
            ..Self::default()
        }
    }
}

#[derive(Clone)]
pub struct FakeFusionAuth(Arc<Mutex<State>>);

impl FakeFusionAuth {
    pub fn new(state: State) -> Self {
        Self(Arc::new(Mutex::new(state)))
    }

    pub fn state(&self) -> State {
        self.0.lock().unwrap().clone()
    }
}

impl State {
    pub fn webhook(&self, id: &str) -> Option<&Value> {
        self.webhooks.iter().find(|w| w["id"] == id)
    }

    pub fn key(&self, id: &str) -> Option<&Value> {
        self.keys.iter().find(|k| k["id"] == id)
    }

    pub fn secret_of(&self, key_id: &str) -> Option<&str> {
        self.key_secrets
            .iter()
            .find(|(k, _)| k == key_id)
            .map(|(_, s)| s.as_str())
    }

    /// FusionAuth's 400 when a key id or a key name is taken (names are unique in Key Master).
    fn key_clash(&self, id: &str, name: &Value) -> Option<ResponseTemplate> {
        if self.key(id).is_some() {
            return Some(field_error(
                "key.id",
                "[duplicate]key.id",
                "A key with this id already exists",
            ));
        }
        self.keys.iter().any(|k| &k["name"] == name).then(|| {
            field_error(
                "key.name",
                "[duplicate]key.name",
                "A key with this name already exists",
            )
        })
    }
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn empty(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status)
}

fn field_error(field: &str, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(400)
        .set_body_json(json!({"fieldErrors": {field: [{"code": code, "message": message}]}}))
}

/// How a PATCH treats arrays: FusionAuth's plain PATCH appends them, RFC 7396 merge-patch
/// replaces them. Both merge objects and remove keys set to null.
#[derive(Clone, Copy, PartialEq)]
enum Arrays {
    Append,
    Replace,
}

fn patch_value(target: &mut Value, patch: &Value, arrays: Arrays) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    patch_value(t.entry(k.clone()).or_insert(Value::Null), v, arrays);
                }
            }
        }
        (Value::Array(t), Value::Array(p)) if arrays == Arrays::Append => {
            t.extend(p.iter().cloned())
        }
        (t, p) => *t = p.clone(),
    }
}

/// FusionAuth's plain PATCH.
fn fusionauth_patch(target: &mut Value, patch: &Value) {
    patch_value(target, patch, Arrays::Append);
}

/// RFC 7396 merge-patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    patch_value(target, patch, Arrays::Replace);
}

/// FusionAuth's validation of a webhook: a URL, both timeouts, and a signing key that exists.
fn invalid_webhook(s: &State, webhook: &Value) -> Option<ResponseTemplate> {
    for field in ["url", "connectTimeout", "readTimeout"] {
        if webhook[field].is_null() {
            let name = format!("webhook.{field}");
            return Some(field_error(&name, &format!("[blank]{name}"), "Required"));
        }
    }
    let signing = &webhook["signatureConfiguration"];
    if signing["enabled"] == true {
        let key = signing["signingKeyId"].as_str().unwrap_or_default();
        if s.key(key).is_none() {
            let name = "webhook.signatureConfiguration.signingKeyId";
            return Some(field_error(
                name,
                &format!("[invalid]{name}"),
                "No such key",
            ));
        }
    }
    None
}

fn find<'a>(items: &'a mut [Value], id: &str) -> Option<&'a mut Value> {
    items.iter_mut().find(|i| i["id"] == id)
}

impl Respond for FakeFusionAuth {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap();
        if let Some(status) = s.fail_all {
            return empty(status);
        }
        let key = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if key != Some(s.api_key.as_str()) {
            return empty(401);
        }
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let content_type = req
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let segments: Vec<&str> = req.url.path().trim_start_matches('/').split('/').collect();
        let method = req.method.as_str();
        match (method, segments.as_slice()) {
            ("GET", ["api", "tenant"]) => ok(json!({"tenants": s.tenants})),
            ("PATCH", ["api", "tenant", id]) => match find(&mut s.tenants, id) {
                Some(t) => {
                    fusionauth_patch(t, &body["tenant"]);
                    ok(json!({"tenant": t}))
                }
                None => empty(404),
            },
            ("GET", ["api", "key", id]) => match find(&mut s.keys, id) {
                Some(k) => ok(json!({"key": k})),
                None => empty(404),
            },
            ("POST", ["api", "key", "generate", id]) => {
                if let Some(clash) = s.key_clash(id, &body["key"]["name"]) {
                    return clash;
                }
                let mut k = body["key"].clone();
                k["id"] = json!(id);
                k["kid"] = json!("kid-1");
                k["type"] = json!("RSA");
                k["publicKey"] = json!("-----BEGIN PUBLIC KEY-----\n...");
                k["hasPrivateKey"] = json!(true);
                s.keys.push(k.clone());
                ok(json!({"key": k}))
            }
            ("POST", ["api", "key", "import", id]) => {
                if let Some(clash) = s.key_clash(id, &body["key"]["name"]) {
                    return clash;
                }
                let Some(secret) = body["key"]["secret"].as_str().map(str::to_owned) else {
                    return field_error("key.secret", "[blank]key.secret", "Required");
                };
                if body["key"]["type"] != "HMAC" {
                    // The import API infers an algorithm but needs the type of an HMAC secret.
                    return field_error("key.type", "[blank]key.type", "Required for an HMAC key");
                }
                let mut k = body["key"].clone();
                if let Some(fields) = k.as_object_mut() {
                    fields.remove("secret");
                }
                k["id"] = json!(id);
                k["kid"] = json!("kid-hmac");
                s.key_secrets.push(((*id).to_owned(), secret));
                s.keys.push(k.clone());
                ok(json!({"key": k}))
            }
            ("GET", ["api", "application", id]) => match find(&mut s.applications, id) {
                Some(a) => ok(json!({"application": a})),
                None => empty(404),
            },
            ("POST", ["api", "application", id]) => {
                if let Some(e) = &s.reject_application {
                    return ResponseTemplate::new(400).set_body_json(e.clone());
                }
                if find(&mut s.applications, id).is_some() {
                    return field_error(
                        "application.id",
                        "[duplicate]application.id",
                        "An application with this id already exists",
                    );
                }
                let name = &body["application"]["name"];
                if s.applications.iter().any(|a| &a["name"] == name) {
                    return field_error(
                        "application.name",
                        "[duplicate]application.name",
                        "An application with this name already exists",
                    );
                }
                // FusionAuth fills in defaults the request did not name: no refresh tokens,
                // and reusable ones with a fixed 30-day lifetime when they are turned on.
                let mut app = json!({
                    "active": true, "tenantId": TENANT_ID,
                    "oauthConfiguration": {
                        "clientId": id, "clientAuthenticationPolicy": "Required", "generateRefreshTokens": false,
                        "logoutBehavior": "AllApplications"
                    },
                    "jwtConfiguration": {
                        "timeToLiveInSeconds": 3600,
                        "refreshTokenTimeToLiveInMinutes": 43200,
                        "refreshTokenExpirationPolicy": "Fixed",
                        "refreshTokenUsagePolicy": "Reusable",
                        "refreshTokenSlidingWindowConfiguration": {"maximumTimeToLiveInMinutes": 43200}
                    }
                });
                merge_patch(&mut app, &body["application"]);
                app["id"] = json!(id);
                s.applications.push(app.clone());
                ok(json!({"application": app}))
            }
            ("PATCH", ["api", "application", id]) => {
                if let Some(e) = &s.reject_application {
                    return ResponseTemplate::new(400).set_body_json(e.clone());
                }
                match find(&mut s.applications, id) {
                    Some(a) => {
                        if content_type.starts_with("application/merge-patch+json") {
                            merge_patch(a, &body["application"]);
                        } else {
                            fusionauth_patch(a, &body["application"]);
                        }
                        ok(json!({"application": a}))
                    }
                    None => empty(404),
                }
            }
            ("GET", ["api", "webhook", id]) => match find(&mut s.webhooks, id) {
                Some(w) => ok(json!({"webhook": w})),
                None => empty(404),
            },
            ("POST", ["api", "webhook", id]) => {
                if let Some(e) = &s.reject_webhook {
                    return ResponseTemplate::new(400).set_body_json(e.clone());
                }
                if find(&mut s.webhooks, id).is_some() {
                    return field_error(
                        "webhook.id",
                        "[duplicate]webhook.id",
                        "A webhook with this id already exists",
                    );
                }
                if let Some(invalid) = invalid_webhook(&s, &body["webhook"]) {
                    return invalid;
                }
                let mut w = json!({"data": {}, "headers": {}});
                merge_patch(&mut w, &body["webhook"]);
                w["id"] = json!(id);
                s.webhooks.push(w.clone());
                ok(json!({"webhook": w}))
            }
            ("PATCH", ["api", "webhook", id]) => {
                if let Some(e) = &s.reject_webhook {
                    return ResponseTemplate::new(400).set_body_json(e.clone());
                }
                let Some(mut w) = find(&mut s.webhooks, id).cloned() else {
                    return empty(404);
                };
                if content_type.starts_with("application/merge-patch+json") {
                    merge_patch(&mut w, &body["webhook"]);
                } else {
                    fusionauth_patch(&mut w, &body["webhook"]);
                }
                if let Some(invalid) = invalid_webhook(&s, &w) {
                    return invalid;
                }
                if let Some(stored) = find(&mut s.webhooks, id) {
                    *stored = w.clone();
                }
                ok(json!({"webhook": w}))
            }
            ("POST", ["api", "user", "search"]) => {
                let n = body["search"]["numberOfResults"].as_u64().unwrap_or(25) as usize;
                let users: Vec<&Value> = s.users.iter().take(n).collect();
                ok(json!({"total": s.users.len(), "users": users}))
            }
            ("GET", ["api", "user"]) => {
                let email = req
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "email")
                    .map(|(_, v)| v.into_owned());
                match s
                    .users
                    .iter()
                    .find(|u| email.as_deref().is_some_and(|e| u["email"] == e))
                {
                    Some(u) => ok(json!({"user": u})),
                    None => empty(404),
                }
            }
            ("PATCH", ["api", "user", id]) => match find(&mut s.users, id) {
                Some(u) => {
                    fusionauth_patch(u, &body["user"]);
                    ok(json!({"user": u}))
                }
                None => empty(404),
            },
            ("GET", ["api", "user", "registration", user, app]) => {
                if s.registrations.iter().any(|(u, a)| u == user && a == app) {
                    ok(
                        json!({"registration": {"applicationId": app, "id": "r1", "verified": true}}),
                    )
                } else {
                    empty(404)
                }
            }
            ("POST", ["api", "user", "registration", user]) => {
                if body.get("user").is_some() {
                    // The trap: a "user" object turns this into create-and-register.
                    return field_error(
                        "user.email",
                        "[blank]user.email",
                        "You must specify the [user.email] property",
                    );
                }
                let Some(app) = body["registration"]["applicationId"]
                    .as_str()
                    .map(str::to_owned)
                else {
                    return field_error(
                        "registration.applicationId",
                        "[blank]registration.applicationId",
                        "Required",
                    );
                };
                if s.registrations.iter().any(|(u, a)| u == user && *a == app) {
                    return field_error(
                        "registration",
                        "[duplicate]registration",
                        "The user is already registered",
                    );
                }
                s.registrations.push(((*user).to_owned(), app.clone()));
                ok(json!({"registration": {"applicationId": app}, "user": {"id": user}}))
            }
            _ => empty(404),
        }
    }
}
