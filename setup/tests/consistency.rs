//! The kickstart file, the compose env file, `.env.example`, the compose file and the app's
//! defaults (`src/defaults.rs`) describe the same FusionAuth; this keeps them from drifting.

use std::{collections::BTreeMap, path::PathBuf};

use serde_json::Value;
use setup::{defaults, desired::Desired};

fn repo_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `KEY=VALUE` lines; comments and blank lines skipped.
fn env_file(name: &str) -> BTreeMap<String, String> {
    repo_file(name)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("{name}: bad line {l:?}"));
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect()
}

/// The kickstart with its variables resolved the way FusionAuth does, `#{ENV.X}` taken
/// from the compose env file.
fn resolved_kickstart() -> Value {
    let env = env_file("fusionauth.env");
    let text = repo_file("kickstart/kickstart.json");
    let raw: Value = serde_json::from_str(&text).expect("kickstart.json is JSON (no comments)");
    let mut resolved = text.clone();
    for (name, value) in raw["variables"].as_object().expect("variables") {
        let mut value = value.as_str().expect("string variable").to_owned();
        if let Some(var) = value
            .strip_prefix("#{ENV.")
            .and_then(|v| v.strip_suffix('}'))
        {
            value = env
                .get(var)
                .unwrap_or_else(|| {
                    panic!("kickstart reads ENV.{var}, which fusionauth.env does not set")
                })
                .clone();
        }
        resolved = resolved.replace(&format!("#{{{name}}}"), &value);
    }
    for left in [
        "#{ENV.",
        "#{app",
        "#{sign",
        "#{demo",
        "#{default",
        "#{admin",
        "#{api",
    ] {
        let body_only = resolved.split("\"apiKeys\"").nth(1).unwrap_or_default();
        assert!(
            !body_only.contains(left),
            "unresolved {left} in kickstart requests"
        );
    }
    serde_json::from_str(&resolved).unwrap()
}

fn request<'a>(kickstart: &'a Value, method: &str, url: &str) -> &'a Value {
    kickstart["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == method && r["url"] == url)
        .unwrap_or_else(|| panic!("kickstart has no {method} {url}"))
}

#[test]
fn kickstart_sends_the_same_bodies_as_the_setup_tool() {
    let k = resolved_kickstart();
    let desired = Desired::development();
    let app = request(
        &k,
        "POST",
        &format!("/api/application/{}", defaults::CLIENT_ID),
    );
    assert_eq!(app["body"], desired.application_request());
    let key = request(
        &k,
        "POST",
        &format!("/api/key/generate/{}", defaults::SIGNING_KEY_ID),
    );
    assert_eq!(key["body"], desired.key_request());
    let tenant = k["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == "PATCH" && r["url"].as_str().unwrap().starts_with("/api/tenant/"))
        .expect("kickstart patches the tenant");
    assert_eq!(tenant["body"], desired.tenant_patch());
    assert!(
        tenant.get("contentType").is_none(),
        "no arrays: a plain PATCH, as setup sends"
    );
}

#[test]
fn application_urls_are_the_ones_the_app_uses() {
    let k = resolved_kickstart();
    let oauth = &request(
        &k,
        "POST",
        &format!("/api/application/{}", defaults::CLIENT_ID),
    )["body"]["application"]["oauthConfiguration"];
    let at = |p: &str| format!("{}{p}", defaults::APP_URL);
    assert_eq!(
        oauth["authorizedRedirectURLs"],
        serde_json::json!([at(defaults::CALLBACK_PATH), at(defaults::POST_LOGOUT_PATH)])
    );
    assert_eq!(oauth["logoutURL"], at(defaults::LOGOUT_PATH));
    // FusionAuth's logout page calls the app's logoutURL (front-channel logout) only with
    // AllApplications; RedirectOnly would skip it.
    assert_eq!(oauth["logoutBehavior"], "AllApplications");
    assert_eq!(oauth["clientSecret"], defaults::CLIENT_SECRET);
    assert_eq!(Desired::development().issuer, defaults::ISSUER);
}

#[test]
fn kickstart_creates_the_demo_user_registered_to_the_application() {
    let k = resolved_kickstart();
    let demo = k["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["body"]["user"]["email"] == defaults::DEMO_USER_EMAIL)
        .expect("kickstart creates the demo user");
    let user = &demo["body"]["user"];
    assert_eq!(user["password"], defaults::DEMO_USER_PASSWORD);
    assert_eq!(user["firstName"], defaults::DEMO_USER_FIRST_NAME);
    assert_eq!(user["lastName"], defaults::DEMO_USER_LAST_NAME);
    assert_eq!(
        user["fullName"],
        format!(
            "{} {}",
            defaults::DEMO_USER_FIRST_NAME,
            defaults::DEMO_USER_LAST_NAME
        )
    );
    assert_eq!(
        demo["body"]["registration"]["applicationId"],
        defaults::CLIENT_ID
    );

    // The compose healthcheck waits for exactly this registration.
    let compose = repo_file("docker-compose.yml");
    let user_id = demo["url"].as_str().unwrap().rsplit('/').next().unwrap();
    assert!(compose.contains(&format!(
        "/api/user/registration/{user_id}/{}",
        defaults::CLIENT_ID
    )));
}

#[test]
fn kickstart_creates_an_admin_for_the_admin_ui() {
    let k = resolved_kickstart();
    let env = env_file("fusionauth.env");
    let admin = k["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["body"]["registration"]["roles"] == serde_json::json!(["admin"]))
        .expect("kickstart creates an admin");
    assert_eq!(
        admin["body"]["user"]["email"],
        env["FUSIONAUTH_ADMIN_EMAIL"].as_str()
    );
    assert_eq!(
        admin["body"]["registration"]["applicationId"],
        "#{FUSIONAUTH_APPLICATION_ID}"
    );
}

#[test]
fn compose_env_file_agrees_with_the_app_and_itself() {
    let env = env_file("fusionauth.env");
    assert_eq!(env["APP_URL"], defaults::APP_URL);
    assert_eq!(env["DATABASE_ROOT_USERNAME"], env["POSTGRES_USER"]);
    assert_eq!(env["DATABASE_ROOT_PASSWORD"], env["POSTGRES_PASSWORD"]);
    assert!(env["FUSIONAUTH_API_KEY"].len() >= 32);
    // FusionAuth's default password rule: at least 8 characters.
    assert!(env["FUSIONAUTH_ADMIN_PASSWORD"].len() >= 8);
}

#[test]
fn env_example_documents_every_variable_with_the_defaults() {
    let example = env_file(".env.example");
    let fusionauth_env = env_file("fusionauth.env");
    for var in [
        "ISSUER",
        "CLIENT_ID",
        "CLIENT_SECRET",
        "APP_URL",
        "APP_SECRET_KEY",
        "SESSION_DB",
        "CLOCK_SKEW_SECS",
        "RUST_LOG",
        "FUSIONAUTH_API_KEY",
        "FUSIONAUTH_URL",
    ] {
        assert!(example.contains_key(var), ".env.example lacks {var}");
    }
    assert_eq!(example["ISSUER"], defaults::ISSUER);
    assert_eq!(example["CLIENT_ID"], defaults::CLIENT_ID);
    assert_eq!(example["CLIENT_SECRET"], defaults::CLIENT_SECRET);
    assert_eq!(example["APP_URL"], defaults::APP_URL);
    assert_eq!(example["FUSIONAUTH_URL"], defaults::ISSUER);
    assert_eq!(example["SESSION_DB"], ".data/sessions.db");
    assert_eq!(example["CLOCK_SKEW_SECS"], "60");
    assert_eq!(example["RUST_LOG"], "info");
    assert_eq!(
        example["APP_SECRET_KEY"], "",
        "never ship a session key in an example"
    );
    // So `setup` run with a copied .env talks to the Docker instance.
    assert_eq!(
        example["FUSIONAUTH_API_KEY"],
        fusionauth_env["FUSIONAUTH_API_KEY"]
    );
}

#[test]
fn compose_file_uses_the_env_file_and_the_kickstart() {
    let compose = repo_file("docker-compose.yml");
    assert!(compose.contains("env_file: fusionauth.env"));
    assert!(compose.contains("./kickstart:/usr/local/fusionauth/kickstart"));
    assert!(compose
        .contains("FUSIONAUTH_APP_KICKSTART_FILE: /usr/local/fusionauth/kickstart/kickstart.json"));
    assert!(
        compose.contains("image: fusionauth/fusionauth-app:1."),
        "pin FusionAuth's version"
    );
    assert!(compose.contains("127.0.0.1:9011:9011"));
    assert_eq!(
        defaults::ISSUER,
        "http://localhost:9011",
        "the published port and the issuer"
    );
}
