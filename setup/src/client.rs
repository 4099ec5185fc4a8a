//! A small typed client for the parts of FusionAuth's admin API the steps use.
//!
//! Every request carries the API key as FusionAuth expects it (the raw key in `Authorization`,
//! no "Bearer"). Success is a 200 with a JSON body; a 400 carries FusionAuth's error JSON;
//! 401, 404 and 500 come with empty bodies, so they are never parsed.

use std::{fmt, time::Duration};

use reqwest::{
    header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE},
    Method, StatusCode,
};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::model::Errors;

/// `Content-Type` of an RFC 7396 merge patch: arrays in it replace, where FusionAuth's plain
/// JSON PATCH would append (supported since FusionAuth 1.39).
pub const MERGE_PATCH: &str = "application/merge-patch+json";
/// Header that scopes a request to one tenant, needed once FusionAuth has several.
pub const TENANT_HEADER: &str = "X-FusionAuth-TenantId";

/// Where to create an API key, for error messages.
const API_KEY_HELP: &str =
    "create one in FusionAuth's admin UI (Settings > API Keys > Add) and set FUSIONAUTH_API_KEY";

/// Why a call to FusionAuth failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("FusionAuth is unreachable at {url} ({reason}). Start it with `docker compose up -d --wait`, or point --url / FUSIONAUTH_URL at it")]
    Unreachable { url: String, reason: String },
    #[error("FusionAuth at {url} rejected the API key (401 Unauthorized): {API_KEY_HELP}")]
    Unauthorized { url: String },
    #[error("FusionAuth refused {method} {path} (400 Bad Request): {errors}")]
    BadRequest {
        method: Method,
        path: String,
        errors: Errors,
    },
    #[error("FusionAuth answered {method} {path} with {status}{hint}")]
    Status {
        method: Method,
        path: String,
        status: StatusCode,
        hint: &'static str,
    },
    #[error("FusionAuth's answer to {method} {path} is not the documented JSON: {reason}")]
    InvalidResponse {
        method: Method,
        path: String,
        reason: String,
    },
    #[error("the API key is not a valid HTTP header value: use only visible ASCII characters")]
    BadApiKey,
    #[error("--url / FUSIONAUTH_URL is not a valid http(s) URL: {0}")]
    BadUrl(String),
}

/// A FusionAuth admin API client bound to one instance and one API key.
pub struct FusionAuthClient {
    http: reqwest::Client,
    base_url: Url,
    api_key: SecretString,
    tenant_id: Option<String>,
}

impl fmt::Debug for FusionAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FusionAuthClient")
            .field("base_url", &self.base_url.as_str())
            .field("api_key", &"[redacted]")
            .field("tenant_id", &self.tenant_id)
            .finish()
    }
}

impl FusionAuthClient {
    pub fn new(base_url: &str, api_key: SecretString) -> Result<Self, ApiError> {
        let base_url = Url::parse(base_url.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| ApiError::BadUrl(base_url.to_owned()))?;
        HeaderValue::from_str(api_key.expose_secret()).map_err(|_| ApiError::BadApiKey)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "fusionauth-leptos-setup/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| ApiError::Unreachable {
                url: base_url.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            base_url,
            api_key,
            tenant_id: None,
        })
    }

    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Scopes every later request to `tenant_id`.
    pub fn set_tenant(&mut self, tenant_id: &str) {
        self.tenant_id = Some(tenant_id.to_owned());
    }

    /// `GET path`: `Ok(None)` on 404.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, ApiError> {
        self.send(Method::GET, path, &[], None).await
    }

    /// `GET path?query`: `Ok(None)` on 404.
    pub async fn get_with_query<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Option<T>, ApiError> {
        self.send(Method::GET, path, query, None).await
    }

    /// `POST path` with a JSON body; a 404 is an error.
    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, ApiError> {
        self.expect_found(Method::POST, path, body, "application/json")
            .await
    }

    /// `PATCH path` with FusionAuth's plain JSON merge (objects merge, arrays append).
    pub async fn patch<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<T, ApiError> {
        self.expect_found(Method::PATCH, path, body, "application/json")
            .await
    }

    /// `PATCH path` with an RFC 7396 merge patch (arrays replace).
    pub async fn merge_patch<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<T, ApiError> {
        self.expect_found(Method::PATCH, path, body, MERGE_PATCH)
            .await
    }

    async fn expect_found<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        content_type: &'static str,
    ) -> Result<T, ApiError> {
        let found = self
            .send(method.clone(), path, &[], Some((body, content_type)))
            .await?;
        found.ok_or(ApiError::Status {
            method,
            path: path.to_owned(),
            status: StatusCode::NOT_FOUND,
            hint: "",
        })
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, ApiError> {
        let base = self.base_url.as_str().trim_end_matches('/');
        let mut url =
            Url::parse(&format!("{base}{path}")).map_err(|_| ApiError::BadUrl(base.to_owned()))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    fn headers(&self, content_type: Option<&'static str>) -> Result<HeaderMap, ApiError> {
        let mut headers = HeaderMap::new();
        let mut key =
            HeaderValue::from_str(self.api_key.expose_secret()).map_err(|_| ApiError::BadApiKey)?;
        key.set_sensitive(true);
        headers.insert(AUTHORIZATION, key);
        if let Some(tenant) = &self.tenant_id {
            if let Ok(v) = HeaderValue::from_str(tenant) {
                headers.insert(TENANT_HEADER, v);
            }
        }
        if let Some(ct) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        Ok(headers)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(&Value, &'static str)>,
    ) -> Result<Option<T>, ApiError> {
        let url = self.url(path, query)?;
        let mut request = self
            .http
            .request(method.clone(), url)
            .headers(self.headers(body.map(|(_, ct)| ct))?);
        if let Some((json, _)) = body {
            request = request.body(json.to_string());
        }
        let response = request.send().await.map_err(|e| ApiError::Unreachable {
            url: self.base_url.to_string(),
            reason: short_reason(&e),
        })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| ApiError::Unreachable {
            url: self.base_url.to_string(),
            reason: short_reason(&e),
        })?;
        let invalid = |reason: String| ApiError::InvalidResponse {
            method: method.clone(),
            path: path.to_owned(),
            reason,
        };
        match status {
            s if s.is_success() => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| invalid(e.to_string())),
            StatusCode::NOT_FOUND => Ok(None),
            StatusCode::UNAUTHORIZED => Err(ApiError::Unauthorized {
                url: self.base_url.to_string(),
            }),
            StatusCode::BAD_REQUEST => Err(ApiError::BadRequest {
                method,
                path: path.to_owned(),
                // The body is documented JSON, but an odd proxy may send anything else.
                errors: serde_json::from_slice(&bytes).unwrap_or_default(),
            }),
            status => Err(ApiError::Status {
                method,
                path: path.to_owned(),
                status,
                hint: status_hint(status),
            }),
        }
    }
}

fn status_hint(status: StatusCode) -> &'static str {
    match status.as_u16() {
        403 => ": the API key lacks permission for this endpoint; use a key without endpoint restrictions",
        503 => ": FusionAuth's search index failed; check the search service (or use SEARCH_TYPE=database)",
        500..=599 => ": see FusionAuth's log (docker compose logs fusionauth)",
        300..=399 => ": --url must be FusionAuth's own address, not a page that redirects",
        _ => "",
    }
}

/// The part of a reqwest error worth a user's attention, without the request URL it repeats.
fn short_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection refused or host not found".to_owned()
    } else {
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason = s.to_string();
            source = s.source();
        }
        reason
    }
}
