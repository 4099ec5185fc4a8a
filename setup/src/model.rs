//! The parts of FusionAuth's admin API responses the steps read. FusionAuth leaves out
//! fields that are null, so everything optional is `Option` with a default.

use std::{collections::BTreeMap, fmt};

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub struct TenantsResponse {
    #[serde(default)]
    pub tenants: Vec<Tenant>,
}

/// A tenant: the fields the steps read by name, and the whole JSON, which the tenant step
/// compares field by field with the desired body.
#[derive(Debug, Deserialize)]
#[serde(try_from = "Value")]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub json: Value,
}

impl TryFrom<Value> for Tenant {
    type Error = String;

    fn try_from(json: Value) -> Result<Self, Self::Error> {
        let text = |field: &str| json.get(field).and_then(Value::as_str).map(str::to_owned);
        let id = text("id").ok_or("a tenant without an id")?;
        let name = text("name").unwrap_or_default();
        Ok(Self { id, name, json })
    }
}

#[derive(Debug, Deserialize)]
pub struct KeyResponse {
    pub key: Key,
}

#[derive(Debug, Deserialize)]
pub struct Key {
    pub id: String,
    #[serde(default)]
    pub algorithm: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// `RSA`, `EC`, `OKP` or `HMAC`. FusionAuth never returns an HMAC key's secret.
    #[serde(default, rename = "type")]
    pub key_type: Option<String>,
}

/// The application is kept as JSON: the steps compare it field by field with the desired body.
#[derive(Debug, Deserialize)]
pub struct ApplicationResponse {
    pub application: Value,
}

/// The webhook is kept as JSON, like the application.
#[derive(Debug, Deserialize)]
pub struct WebhookResponse {
    pub webhook: Value,
}

#[derive(Debug, Deserialize)]
pub struct UserSearchResponse {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub users: Vec<User>,
}

#[derive(Debug, Deserialize)]
pub struct UserResponse {
    pub user: User,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
}

impl User {
    /// How the report names the user.
    pub fn label(&self) -> String {
        self.email
            .clone()
            .or_else(|| self.username.clone())
            .unwrap_or_else(|| self.id.clone())
    }
}

/// Any JSON answer whose content the steps do not need.
#[derive(Debug, Deserialize)]
pub struct Ignored {}

/// FusionAuth's 400 body: `{"fieldErrors":{field:[{code,message}]},"generalErrors":[{code,message}]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Errors {
    #[serde(default)]
    pub field_errors: BTreeMap<String, Vec<ErrorMessage>>,
    #[serde(default)]
    pub general_errors: Vec<ErrorMessage>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorMessage {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (field, errors) in &self.field_errors {
            for e in errors {
                parts.push(format!("{field}: {} [{}]", e.message, e.code));
            }
        }
        for e in &self.general_errors {
            parts.push(format!("{} [{}]", e.message, e.code));
        }
        if parts.is_empty() {
            f.write_str("no error details in the response")
        } else {
            f.write_str(&parts.join("; "))
        }
    }
}
