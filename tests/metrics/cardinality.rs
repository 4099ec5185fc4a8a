//! A client that sends random paths and methods adds no series: requests are labelled by
//! route template, and unknown methods share one label.

use rand::{distributions::Alphanumeric, Rng};
use reqwest::Method;

use crate::{scrape::app_with_metrics, serial};

/// The methods a request is sent with: the standard ones, and a made-up one per request.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "invented",
];

fn random_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn random_method() -> Method {
    match METHODS[rand::thread_rng().gen_range(0..METHODS.len())] {
        "invented" => Method::from_bytes(format!("X{}", random_token(8)).as_bytes())
            .expect("a token is a method"),
        standard => Method::from_bytes(standard.as_bytes()).expect("standard"),
    }
}

/// Directories that have routes or files, and the root.
const PREFIXES: [&str; 6] = ["", "/auth", "/pkg", "/profile", "/callback", "/webhooks"];

/// A path no route has, under a prefix that has routes or files.
fn random_path() -> String {
    let prefix = PREFIXES[rand::thread_rng().gen_range(0..PREFIXES.len())];
    format!("{prefix}/{}?q={}", random_token(12), random_token(6))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_random_paths_and_methods_add_no_series() {
    let _serial = serial().await;
    let (s, metrics) = app_with_metrics().await;
    let client = reqwest::Client::new();
    let send = |method: Method, path: String| {
        let request = client.request(method, s.app.url(&path));
        async move { request.send().await.expect("request").status() }
    };
    // A few fixed requests: each method on one path under each prefix.
    for prefix in PREFIXES {
        for method in METHODS {
            let method = match method {
                "invented" => Method::from_bytes(b"XFIXED").expect("a token"),
                standard => Method::from_bytes(standard.as_bytes()).expect("standard"),
            };
            send(method, format!("{prefix}/fixed")).await;
        }
    }
    let fixed = metrics.scrape().await;

    let mut sent = Vec::new();
    for _ in 0..1000 {
        let path = random_path();
        send(random_method(), path.clone()).await;
        sent.push(path);
    }
    let text = metrics.text().await;
    let after = crate::scrape::Samples::parse(&text);
    let series: Vec<&String> = after.0.keys().collect();
    assert_eq!(
        series.len(),
        fixed.0.len(),
        "new series: {:?}",
        series
            .iter()
            .filter(|k| !fixed.0.contains_key(**k))
            .collect::<Vec<_>>()
    );
    let random_part = |path: &str| path.rsplit('/').next().map(|p| p[..12].to_owned());
    for path in &sent {
        let part = random_part(path).expect("a random part");
        assert!(!text.contains(&part), "{part} of {path} in the metrics");
    }
    let requests = "oidc_sessions_http_requests_total";
    let counted = |samples: &crate::scrape::Samples| -> f64 {
        samples
            .0
            .iter()
            .filter(|(k, _)| crate::scrape::name_of(k) == requests)
            .map(|(_, v)| v)
            .sum()
    };
    assert_eq!(
        counted(&after) - counted(&fixed),
        1000.0,
        "every request counted"
    );
}
