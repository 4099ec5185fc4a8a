//! The kickstart file, the compose env file, `.env.example`, the compose file, the nginx
//! configurations, the Dockerfile and the app's defaults (`crates/defaults`) describe the same
//! deployment; this keeps them from drifting.

use std::{collections::BTreeMap, path::PathBuf};

use serde_json::{json, Value};
use setup::{
    defaults,
    desired::{self, Desired},
};

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

/// The defaults of `${NAME:-default}` interpolations in docker-compose.yml. Each name has one
/// default, however often it is used (a second, different one would be a second source).
fn compose_defaults() -> BTreeMap<String, String> {
    let compose = repo_file("docker-compose.yml");
    let mut found = BTreeMap::new();
    for (i, _) in compose.match_indices("${") {
        let rest = &compose[i + 2..];
        let Some((name, rest)) = rest.split_once(":-") else {
            continue;
        };
        if !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            continue;
        }
        let value = rest.split('}').next().unwrap_or_default().to_owned();
        if let Some(other) = found.insert(name.to_owned(), value.clone()) {
            assert_eq!(
                other, value,
                "docker-compose.yml has two defaults for ${{{name}}}"
            );
        }
    }
    found
}

/// What `#{ENV.X}` reads in the FusionAuth container: the compose file's `environment` (its
/// defaults) over the env file.
fn fusionauth_container_env() -> BTreeMap<String, String> {
    let mut env = env_file("fusionauth.env");
    let compose = repo_file("docker-compose.yml");
    let fusionauth = compose_service(&compose, "fusionauth");
    for (name, value) in compose_defaults() {
        if fusionauth.contains(&format!("{name}: ")) {
            assert!(
                env.insert(name.clone(), value).is_none(),
                "{name} is set both in fusionauth.env and in docker-compose.yml (which wins silently)"
            );
        }
    }
    env
}

/// The lines of one service in docker-compose.yml: from `  name:` to the next line indented
/// by less than four spaces (the next service, a comment between services, or a top-level key).
fn compose_service(compose: &str, name: &str) -> String {
    let header = format!("  {name}:");
    let mut lines = compose.lines().skip_while(|l| *l != header);
    assert!(
        lines.next().is_some(),
        "docker-compose.yml has no service {name}"
    );
    lines
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The kickstart with its variables resolved the way FusionAuth does, `#{ENV.X}` taken from
/// the FusionAuth container's environment.
fn resolved_kickstart() -> Value {
    let env = fusionauth_container_env();
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
                    panic!("kickstart reads ENV.{var}, which neither fusionauth.env nor docker-compose.yml sets")
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
        "#{webhook",
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
    let hmac = request(
        &k,
        "POST",
        &format!("/api/key/import/{}", defaults::WEBHOOK_SIGNING_KEY_ID),
    );
    assert_eq!(hmac["body"], desired.webhook_key_request());
    assert_eq!(
        hmac["body"]["key"]["secret"],
        defaults::WEBHOOK_SIGNING_SECRET,
        "FusionAuth in Docker signs with the secret the app verifies with by default"
    );
    let webhook = request(
        &k,
        "POST",
        &format!("/api/webhook/{}", defaults::WEBHOOK_ID),
    );
    // The same webhook, but for its URL (how FusionAuth in Docker reaches the app) and its
    // tenant (the kickstart's pinned default tenant).
    let in_docker = Desired {
        webhook_url: webhook["body"]["webhook"]["url"]
            .as_str()
            .unwrap()
            .to_owned(),
        ..Desired::development()
    };
    let tenant_id = k["variables"]["defaultTenantId"].as_str().unwrap();
    assert_eq!(webhook["body"], in_docker.webhook_request(tenant_id));
}

#[test]
fn kickstart_creates_each_key_before_what_names_it_and_the_demo_user_last() {
    let k = resolved_kickstart();
    let urls: Vec<&str> = k["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap())
        .collect();
    let at = |url: String| {
        urls.iter()
            .position(|u| *u == url)
            .unwrap_or_else(|| panic!("kickstart has no request to {url}: {urls:?}"))
    };
    let rsa = at(format!("/api/key/generate/{}", defaults::SIGNING_KEY_ID));
    let hmac = at(format!(
        "/api/key/import/{}",
        defaults::WEBHOOK_SIGNING_KEY_ID
    ));
    let app = at(format!("/api/application/{}", defaults::CLIENT_ID));
    let webhook = at(format!("/api/webhook/{}", defaults::WEBHOOK_ID));
    assert!(rsa < app, "the application names the RS256 key: {urls:?}");
    assert!(hmac < webhook, "the webhook names the HMAC key: {urls:?}");
    assert!(
        urls[0].starts_with("/api/tenant/"),
        "the issuer first: a new key takes the tenant's issuer"
    );
    // The compose healthcheck waits for the last request's result.
    assert_eq!(
        urls.last().copied(),
        Some(format!("/api/user/registration/{}", defaults::DEMO_USER_ID).as_str())
    );
}

#[test]
fn fusionauth_in_docker_sends_webhooks_to_the_app_on_the_host() {
    let k = resolved_kickstart();
    let webhook = request(
        &k,
        "POST",
        &format!("/api/webhook/{}", defaults::WEBHOOK_ID),
    );
    let url = webhook["body"]["webhook"]["url"].as_str().unwrap();
    let app_port = defaults::APP_URL.rsplit(':').next().unwrap();
    assert_eq!(
        url,
        format!(
            "http://host.docker.internal:{app_port}{}",
            defaults::WEBHOOK_PATH
        )
    );
    let compose = repo_file("docker-compose.yml");
    let fusionauth = compose_service(&compose, "fusionauth");
    assert!(
        fusionauth.contains("- \"host.docker.internal:host-gateway\""),
        "on Linux the name host.docker.internal exists only through extra_hosts:\n{fusionauth}"
    );
    assert!(
        k["variables"]["webhookUrl"] == "#{ENV.FUSIONAUTH_WEBHOOK_URL}",
        "the URL is a variable, so the scaled profile can point it at nginx"
    );
    assert!(compose.contains("FUSIONAUTH_WEBHOOK_URL=http://nginx:3000/webhooks/fusionauth"));
}

#[test]
fn fusionauth_and_the_app_containers_share_one_webhook_secret() {
    let defaults_in_compose = compose_defaults();
    assert_eq!(
        defaults_in_compose["WEBHOOK_SIGNING_SECRET"],
        defaults::WEBHOOK_SIGNING_SECRET
    );
    let compose = repo_file("docker-compose.yml");
    let uses = "WEBHOOK_SIGNING_SECRET: *webhook-signing-secret";
    for service in ["fusionauth", "app-a"] {
        assert!(
            compose_service(&compose, service).contains(uses),
            "{service} must take the shared secret ({uses})"
        );
    }
    assert!(
        compose_service(&compose, "app-b").contains("<<: *app-environment"),
        "app-b takes app-a's environment, the secret included"
    );
}

#[test]
fn refresh_tokens_live_no_longer_than_the_app_session() {
    let example = env_file(".env.example");
    let session_secs: u32 = example["SESSION_TTL_SECS"].parse().unwrap();
    assert_eq!(desired::REFRESH_TOKEN_MAX_MINUTES * 60, session_secs);
    let k = resolved_kickstart();
    let app = &request(
        &k,
        "POST",
        &format!("/api/application/{}", defaults::CLIENT_ID),
    )["body"]["application"];
    assert_eq!(app["oauthConfiguration"]["generateRefreshTokens"], true);
    assert_eq!(
        app["jwtConfiguration"]["refreshTokenUsagePolicy"],
        "OneTimeUse"
    );
    assert_eq!(
        app["jwtConfiguration"]["refreshTokenSlidingWindowConfiguration"]
            ["maximumTimeToLiveInMinutes"],
        json!(session_secs / 60)
    );
}

/// `LEPTOS_SITE_ADDR`'s port in a compose service's environment.
fn replica_port(compose: &str, service: &str) -> String {
    let block = compose_service(compose, service);
    let line = block
        .lines()
        .find(|l| l.trim_start().starts_with("LEPTOS_SITE_ADDR:"))
        .unwrap_or_else(|| panic!("{service} sets no LEPTOS_SITE_ADDR"));
    line.rsplit(':').next().unwrap().trim().to_owned()
}

#[test]
fn scaled_profile_replicas_are_the_nginx_upstreams() {
    let compose = repo_file("docker-compose.yml");
    let nginx = repo_file("deploy/nginx.conf");
    let local = repo_file("deploy/nginx.local.conf");
    let ports = [
        replica_port(&compose, "app-a"),
        replica_port(&compose, "app-b"),
    ];
    assert_ne!(
        ports[0], ports[1],
        "the replicas share one network namespace"
    );
    for port in &ports {
        assert!(
            nginx.contains(&format!("server fusionauth:{port} ")),
            "deploy/nginx.conf lacks the replica on {port}"
        );
        assert!(
            local.contains(&format!("server 127.0.0.1:{port} ")),
            "deploy/nginx.local.conf lacks the replica on {port}"
        );
    }
    let app_port = defaults::APP_URL.rsplit(':').next().unwrap();
    assert!(nginx.contains(&format!("listen {app_port};")));
    assert!(local.contains(&format!("listen 127.0.0.1:{app_port};")));
    assert!(compose_service(&compose, "nginx")
        .contains(&format!("\"127.0.0.1:{app_port}:{app_port}\"")));
    assert!(
        compose_service(&compose, "nginx").contains("./deploy/nginx.conf:/etc/nginx/nginx.conf:ro")
    );
    for service in ["app-a", "app-b"] {
        let block = compose_service(&compose, service);
        assert!(block.contains("profiles: [scaled]"), "{service}");
        // The issuer trap: the replicas reach FusionAuth as localhost:9011 only in its namespace.
        assert!(
            block.contains("network_mode: \"service:fusionauth\""),
            "{service}"
        );
        assert!(
            !block.contains("ports:"),
            "{service}: a shared namespace publishes through fusionauth"
        );
    }
    let app_a = compose_service(&compose, "app-a");
    assert!(app_a.contains(&format!("APP_URL: {}", defaults::APP_URL)));
    assert!(app_a.contains(&format!("ISSUER: {}", defaults::ISSUER)));
    assert!(app_a.contains("REDIS_URL: redis://redis:6379/0"));
    assert!(app_a.contains("APP_SECRET_KEY: ${APP_SECRET_KEY:-}"));
    let redis = compose_service(&compose, "redis");
    assert!(redis.contains("image: redis:7") && redis.contains("\"--appendonly\", \"yes\""));
    assert!(redis.contains("redis_data:/data"));
}

/// The `NAME=value` pairs of the first `ENV` instruction in `stage` (continued lines included).
fn runtime_env(stage: &str) -> BTreeMap<String, String> {
    let lines = stage.lines().skip_while(|l| !l.starts_with("ENV "));
    let mut env = BTreeMap::new();
    for line in lines {
        let text = line
            .trim_start_matches("ENV ")
            .trim()
            .trim_end_matches('\\')
            .trim();
        if let Some((name, value)) = text.split_once('=') {
            env.insert(name.to_owned(), value.to_owned());
        }
        if !line.ends_with('\\') {
            break;
        }
    }
    env
}

#[test]
fn dockerfile_builds_with_the_makefile_tools_and_runs_like_run_app() {
    let dockerfile = repo_file("Dockerfile");
    let makefile = repo_file("Makefile");
    let leptos_version = makefile
        .lines()
        .find_map(|l| l.strip_prefix("CARGO_LEPTOS_VERSION := "))
        .expect("the Makefile pins cargo-leptos");
    assert!(dockerfile.contains(&format!("ARG CARGO_LEPTOS_VERSION={leptos_version}\n")));
    assert!(dockerfile.contains("--locked --features no_downloads"));
    // wasm-bindgen's version is read from Cargo.lock with the Makefile's own program, never
    // written down (it would go stale with the next `cargo update`).
    let awk =
        "awk '/^name = \"wasm-bindgen\"$/ {getline; gsub(/\"/, \"\", $3); print $3}' Cargo.lock";
    assert!(
        makefile.contains(&awk.replace('$', "$$")),
        "the Makefile's program changed"
    );
    assert!(
        dockerfile.contains(awk),
        "the Dockerfile reads wasm-bindgen's version differently"
    );
    let lock = repo_file("Cargo.lock");
    let pinned = lock
        .split("name = \"wasm-bindgen\"\nversion = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("Cargo.lock has wasm-bindgen");
    assert!(
        !dockerfile.contains(pinned),
        "wasm-bindgen {pinned} is written into the Dockerfile"
    );
    assert!(dockerfile.contains("cargo leptos build --release --precompress"));
    assert!(dockerfile.contains("RUN npm ci"));
    assert!(
        dockerfile.contains("target/release/hash.txt"),
        "the hashed names live in hash.txt"
    );

    // Every LEPTOS_* that scripts/run-app.sh gives the binary, the image gives it too.
    let runtime = dockerfile
        .split("FROM debian:bookworm-slim AS runtime")
        .nth(1)
        .expect("a debian:bookworm-slim runtime stage");
    let env = runtime_env(runtime);
    let run_app = repo_file("scripts/run-app.sh");
    for var in run_app
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split('=').next())
        .filter(|v| v.starts_with("LEPTOS_"))
    {
        assert!(
            env.contains_key(var),
            "the image does not set {var}: {env:?}"
        );
    }
    assert_eq!(env["LEPTOS_SITE_ADDR"], "0.0.0.0:3000");
    assert_eq!(env["LEPTOS_HASH_FILES"], "true");
    assert_eq!(env["LEPTOS_SITE_ROOT"], "/app/site");
    assert!(runtime.contains("COPY --from=builder /out/site /app/site"));
    assert!(
        dockerfile.contains("\nUSER app\n"),
        "the server runs unprivileged"
    );
    assert!(dockerfile.contains("\nEXPOSE 3000\n"));
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("GET /readyz"));

    let ignored = repo_file(".dockerignore");
    for pattern in ["target/", "**/node_modules/", ".data/", ".env"] {
        assert!(
            ignored.lines().any(|l| l == pattern),
            ".dockerignore lets {pattern} into the build context"
        );
    }
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
    assert!(
        !env_file("fusionauth.env").contains_key("WEBHOOK_SIGNING_SECRET"),
        "the secret's one source is docker-compose.yml (the app containers need it too)"
    );
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
