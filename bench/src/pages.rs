//! Pages under load (wrk): the guest page as served and as rendered per request, the profile
//! page, and beside them a bare axum handler returning the guest page's exact bytes (the
//! HTTP stack's limit on this machine).

use std::{collections::BTreeMap, time::Duration};

use anyhow::{ensure, Result};
use reqwest::header;
use topology::proc::{command, free_port, wait_http, Proc};

use crate::{
    browser::{self, Browser, LOGGED_IN_MARK},
    harness::Env,
    load::{Wrk, WrkSummary},
    report::{Figure, Target, Unit},
    settings::Settings,
};

pub struct Pages {
    pub bare: WrkSummary,
    pub guest: WrkSummary,
    /// `/?render`: the query bypasses the app's guest-page cache, so Leptos renders each time.
    pub guest_ssr: WrkSummary,
    pub profile: WrkSummary,
    pub guest_bytes: usize,
    pub profile_bytes: usize,
}

/// Measures the four targets with wrk, in an order that rotates from run to run so drift hits
/// each alike. `cookie` is a logged-in session's `Cookie` header value.
pub async fn measure(
    settings: &Settings,
    env: &Env,
    run: usize,
    app: &mut Proc,
    browser: &Browser,
    cookie: &str,
) -> Result<Pages> {
    let base = format!("http://127.0.0.1:{}", env.app_port);
    let guest = browser.get(None, &env.app_url()?.join("/")?).await?;
    ensure!(
        guest.status == 200 && browser::contains(&guest.body, "Hello Guest"),
        "GET / is not the guest page ({})",
        guest.status
    );
    ensure!(
        !guest.headers.contains_key(header::SET_COOKIE),
        "the guest page sets a cookie: wrk would not be measuring a guest"
    );
    let bare = start_bare(env, &guest).await?;
    let profile = browser
        .request(
            None,
            reqwest::Method::GET,
            &env.app_url()?.join("/profile")?,
            None,
            &[(header::COOKIE, cookie)],
        )
        .await?;
    ensure!(
        profile.status == 200 && browser::contains(&profile.body, LOGGED_IN_MARK),
        "/profile with the session cookie is not the profile ({})",
        profile.status
    );

    let wrk = Wrk {
        script: &env.wrk_script,
        threads: settings.wrk_threads,
        connections: settings.wrk_connections,
    };
    let accept = "Accept: text/html".to_owned();
    let targets: [(&str, String, Vec<String>); 4] = [
        ("bare", bare.1.clone(), vec![accept.clone()]),
        ("guest", format!("{base}/"), vec![accept.clone()]),
        ("guest_ssr", format!("{base}/?render"), vec![accept.clone()]),
        (
            "profile",
            format!("{base}/profile"),
            vec![accept, format!("Cookie: {cookie}")],
        ),
    ];
    let mut done: BTreeMap<&str, WrkSummary> = BTreeMap::new();
    for i in 0..targets.len() {
        let (name, url, headers) = &targets[(i + run) % targets.len()];
        wrk.run(url, headers, settings.warm_secs).await?;
        let s = wrk.run(url, headers, settings.wrk_secs).await?;
        eprintln!(
            "bench:   {name:9} {:>9.0} req/s  p50 {:.2} ms  p99 {:.2} ms",
            s.rps(),
            s.p50_us as f64 / 1e3,
            s.p99_us as f64 / 1e3
        );
        ensure!(
            s.errors() == 0,
            "{name}: wrk saw {} errors ({s:?})",
            s.errors()
        );
        done.insert(name, s);
        app.check_alive()?;
    }
    bare.0.stop().await;
    let pages = Pages {
        bare: done["bare"],
        guest: done["guest"],
        guest_ssr: done["guest_ssr"],
        profile: done["profile"],
        guest_bytes: guest.body.len(),
        profile_bytes: profile.body.len(),
    };
    // A 302 (session lost) is not an error for wrk: check that whole pages came back.
    for s in [pages.guest, pages.guest_ssr] {
        ensure!(
            s.bytes_per_request() >= pages.guest_bytes as f64,
            "guest responses are shorter than the page"
        );
    }
    ensure!(
        pages.profile.bytes_per_request() >= pages.profile_bytes as f64,
        "profile responses are shorter than the page: the session was not used"
    );
    Ok(pages)
}

/// `bench bare` serving `page`'s exact body and headers; returns it and its URL.
async fn start_bare(env: &Env, page: &browser::Response) -> Result<(Proc, String)> {
    let body_file = env.tmp.join("guest.html");
    std::fs::write(&body_file, &page.body)?;
    let skip = [
        "date",
        "content-length",
        "transfer-encoding",
        "connection",
        "set-cookie",
    ];
    let headers: Vec<(String, String)> = page
        .headers
        .iter()
        .filter(|(n, _)| !skip.contains(&n.as_str()))
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let headers_file = env.tmp.join("guest-headers.json");
    std::fs::write(&headers_file, serde_json::to_vec(&headers)?)?;
    let port = free_port()?;
    let mut cmd = command(std::env::current_exe()?);
    cmd.arg("bare")
        .arg(format!("127.0.0.1:{port}"))
        .arg(&body_file)
        .arg(&headers_file);
    let mut bare = Proc::spawn("bare axum server", cmd, &env.tmp.join("bare.log"))?;
    let addr = format!("127.0.0.1:{port}");
    wait_http(&addr, "/", Duration::from_secs(10), &mut bare).await?;
    let url = format!("http://{addr}/");
    let same = env.http.get(&url).send().await?.bytes().await?;
    ensure!(
        same[..] == page.body[..],
        "the bare server does not return the guest page's bytes"
    );
    Ok((bare, url))
}

/// The summary lines, as data: label, the figure of one run, unit, target.
type Line = (&'static str, fn(&Pages) -> f64, Unit, Option<Target>);

#[rustfmt::skip]
const LINES: [Line; 10] = [
    ("bare axum handler, same bytes: requests/s", |p| p.bare.rps(), Unit::PerSec, None),
    ("guest page `/` as served (rendered once, then from memory): requests/s", |p| p.guest.rps(), Unit::PerSec, None),
    ("guest page as served: p50 latency", |p| p.guest.p50_us as f64 / 1e3, Unit::Ms, None),
    ("**guest page as served / bare axum**", |p| p.guest.rps() / p.bare.rps(), Unit::Percent,
        Some(Target { text: "≥ 75%", met: |m| m >= 0.75 })),
    ("guest page rendered per request (`/?render`): requests/s", |p| p.guest_ssr.rps(), Unit::PerSec, None),
    ("profile page `/profile`, logged in: requests/s", |p| p.profile.rps(), Unit::PerSec, None),
    ("profile page: p50 latency", |p| p.profile.p50_us as f64 / 1e3, Unit::Ms, None),
    ("**profile page / guest page rendered** (both Leptos SSR)", |p| p.profile.rps() / p.guest_ssr.rps(), Unit::Percent,
        Some(Target { text: "≥ 50%", met: |m| m >= 0.5 })),
    ("guest page, bytes", |p| p.guest_bytes as f64, Unit::Count, None),
    ("profile page, bytes", |p| p.profile_bytes as f64, Unit::Count, None),
];

pub fn figures(runs: &[&Pages]) -> Vec<Figure> {
    LINES
        .iter()
        .map(|&(label, value, unit, target)| Figure {
            label: label.to_owned(),
            values: runs.iter().map(|p| value(p)).collect(),
            unit,
            target,
        })
        .collect()
}
