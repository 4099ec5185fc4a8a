//! Starting the metrics listener the way the server does, and reading what it serves.

use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
};

use fusionauth_leptos::server::metrics;

use crate::support::{setup_with_vars, Setup};

/// An app, against a provider the test controls, and its metrics listener: both read
/// `METRICS_ADDR` from the same configuration (port 0: the system picks one).
pub async fn app_with_metrics() -> (Setup, Metrics) {
    app_with_metrics_and(&[]).await
}

/// The same, the app reading `vars` too.
pub async fn app_with_metrics_and(vars: &[(&'static str, &str)]) -> (Setup, Metrics) {
    let vars: Vec<_> = [("METRICS_ADDR", "127.0.0.1:0")]
        .into_iter()
        .chain(vars.iter().copied())
        .collect();
    let s = setup_with_vars(&vars, |_| {}).await;
    let addr = metrics::start(&s.app.config())
        .await
        .expect("the metrics listener starts")
        .expect("METRICS_ADDR is set");
    (s, Metrics { addr })
}

pub struct Metrics {
    pub addr: SocketAddr,
}

impl Metrics {
    pub fn url(&self) -> String {
        format!("http://{}/metrics", self.addr)
    }

    /// The text exposition, as Prometheus scrapes it.
    pub async fn text(&self) -> String {
        let response = reqwest::get(self.url()).await.expect("scrape");
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        response.text().await.expect("body")
    }

    pub async fn scrape(&self) -> Samples {
        Samples::parse(&self.text().await)
    }
}

/// Every sample of a scrape, keyed `name{label="value",…}` with the labels sorted.
#[derive(Clone, Debug, Default)]
pub struct Samples(pub BTreeMap<String, f64>);

impl Samples {
    pub fn parse(text: &str) -> Self {
        let mut samples = BTreeMap::new();
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (series, value) = line.rsplit_once(' ').expect("`series value`");
            let value: f64 = value.parse().expect("a number");
            samples.insert(normalize(series), value);
        }
        Self(samples)
    }

    /// The metric names present (histograms as their `_bucket`, `_sum`, `_count` series).
    pub fn names(&self) -> std::collections::BTreeSet<String> {
        self.0.keys().map(|k| name_of(k).to_owned()).collect()
    }

    /// How each series of the metrics `names` moved since `before` (those that moved).
    pub fn moved_since(&self, before: &Samples, names: &[&str]) -> HashMap<String, f64> {
        self.0
            .iter()
            .filter(|(series, _)| names.contains(&name_of(series)))
            .map(|(series, now)| (series.clone(), now - before.0.get(series).unwrap_or(&0.0)))
            .filter(|(_, delta)| *delta != 0.0)
            .collect()
    }

    pub fn get(&self, series: &str) -> f64 {
        self.0.get(&normalize(series)).copied().unwrap_or(0.0)
    }
}

pub fn name_of(series: &str) -> &str {
    series.split('{').next().unwrap_or(series)
}

/// `name{b="2",a="1"}` as `name{a="1",b="2"}`: the exporter's label order is its own.
pub fn normalize(series: &str) -> String {
    let Some((name, labels)) = series.split_once('{') else {
        return series.to_owned();
    };
    let labels = labels.trim_end_matches('}');
    let mut pairs: Vec<&str> = if labels.is_empty() {
        Vec::new()
    } else {
        labels
            .split("\",")
            .map(|p| p.trim_end_matches('"'))
            .collect()
    };
    pairs.sort_unstable();
    let pairs: Vec<String> = pairs.iter().map(|p| format!("{p}\"")).collect();
    format!("{name}{{{}}}", pairs.join(","))
}

/// The expected moves, written as `(series, delta)`.
pub fn moves(expected: &[(&str, f64)]) -> HashMap<String, f64> {
    expected
        .iter()
        .map(|(series, delta)| (normalize(series), *delta))
        .collect()
}
