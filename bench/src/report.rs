//! The markdown report.

use std::{fmt::Write as _, path::Path};

use crate::{
    run::{LevelResult, Report, RunResult},
    stats::Spread,
};

const WASM_GZIP_TARGET: f64 = 200_000.0;
const RSS_IDLE_TARGET: f64 = 30_000_000.0;
const LOGIN_APP_MS_TARGET: f64 = 5.0;

fn sh(root: &Path, args: &[&str]) -> String {
    std::process::Command::new(args[0])
        .args(&args[1..])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// A target's text and its check on the median.
type Target = Option<(&'static str, fn(f64) -> bool)>;

struct Table(String);

impl Table {
    fn new() -> Self {
        Self(
            "| figure | min | median | max | target | status |\n|---|---:|---:|---:|---|---|\n"
                .into(),
        )
    }
    /// A row from per-run values; `target` is (text, check on the median).
    fn row(&mut self, label: &str, values: &[f64], fmt: fn(f64) -> String, target: Target) {
        let Some(s) = Spread::of(values) else {
            let _ = writeln!(
                self.0,
                "| {label} | – | – | – | {} | no data |",
                target.map_or("", |t| t.0)
            );
            return;
        };
        let (t, status) = match target {
            Some((text, ok)) => (text, if ok(s.median) { "met" } else { "**missed**" }),
            None => ("", ""),
        };
        let _ = writeln!(
            self.0,
            "| {label} | {} | {} | {} | {t} | {status} |",
            fmt(s.min),
            fmt(s.median),
            fmt(s.max)
        );
    }
}

fn rps(x: f64) -> String {
    format!("{x:.0}")
}
fn ms2(x: f64) -> String {
    format!("{x:.2} ms")
}
fn ms1(x: f64) -> String {
    format!("{x:.1} ms")
}
fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}
fn mb(x: f64) -> String {
    format!("{:.1} MB", x / 1e6)
}
fn kb(x: f64) -> String {
    format!("{:.1} KB", x / 1e3)
}
fn num(x: f64) -> String {
    if (x - x.round()).abs() < 0.005 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}
fn per_sec(x: f64) -> String {
    format!("{x:.1}")
}

/// "median (min–max)" for the compact tables.
fn cell(values: &[f64], fmt: fn(f64) -> String) -> String {
    match Spread::of(values) {
        Some(s) if (s.max - s.min).abs() < f64::EPSILON => fmt(s.median),
        Some(s) => format!("{} ({}–{})", fmt(s.median), fmt(s.min), fmt(s.max)),
        None => "–".into(),
    }
}

fn per_run<F: Fn(&RunResult) -> f64>(runs: &[RunResult], f: F) -> Vec<f64> {
    runs.iter().map(f).collect()
}

fn level_values<F: Fn(&LevelResult) -> f64>(runs: &[RunResult], i: usize, f: F) -> Vec<f64> {
    runs.iter()
        .filter_map(|r| r.levels.get(i))
        .map(&f)
        .filter(|x| x.is_finite())
        .collect()
}

pub fn render(r: &Report, root: &Path) -> String {
    let s = &r.settings;
    let runs = &r.runs;
    let mut out = String::new();
    let rev = sh(root, &["git", "rev-parse", "--short", "HEAD"]);
    let dirty = if sh(
        root,
        &["git", "status", "--porcelain", "--untracked-files=no"],
    )
    .is_empty()
    {
        ""
    } else {
        " + uncommitted changes"
    };
    let date = sh(root, &["date", "-u", "+%Y-%m-%d %H:%M UTC"]);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(out, "## Benchmark results\n");
    let _ = writeln!(
        out,
        "{date}, commit {rev}{dirty}; {}, {cores} cores, shared with the load generator and the stand-in provider. \
         {} runs: each figure is min / median / max over the runs, each run a fresh app process. Pages: wrk -t{} -c{}, \
         {} s after a {} s warm-up, per target per run. Bench time {:.0} s.\n",
        cpu_model(), runs.len(), s.wrk_threads, s.wrk_connections, s.wrk_secs, s.warm_secs, r.elapsed.as_secs_f64()
    );

    // ---- the summary table ----
    let mut t = Table::new();
    t.row(
        "1. bare axum handler, same bytes: requests/s",
        &per_run(runs, |x| x.bare.rps()),
        rps,
        None,
    );
    t.row(
        "1. bare axum: p50 latency",
        &per_run(runs, |x| x.bare.p50_us as f64 / 1e3),
        ms2,
        None,
    );
    t.row(
        "1. bare axum: p99 latency",
        &per_run(runs, |x| x.bare.p99_us as f64 / 1e3),
        ms2,
        None,
    );
    t.row(
        "1. guest page `/` as served (rendered once, then from memory): requests/s",
        &per_run(runs, |x| x.guest.rps()),
        rps,
        None,
    );
    t.row(
        "1. guest page: p50 latency",
        &per_run(runs, |x| x.guest.p50_us as f64 / 1e3),
        ms2,
        None,
    );
    t.row(
        "1. guest page: p99 latency",
        &per_run(runs, |x| x.guest.p99_us as f64 / 1e3),
        ms2,
        None,
    );
    t.row(
        "1. **guest page / bare axum** (requests/s)",
        &per_run(runs, |x| x.guest.rps() / x.bare.rps()),
        pct,
        Some(("≥ 50%", |m| m >= 0.5)),
    );
    t.row(
        "1. guest page rendered on every request (`/?render`, Leptos SSR): requests/s",
        &per_run(runs, |x| x.guest_ssr.rps()),
        rps,
        None,
    );
    t.row(
        "1. guest page rendered: p50 latency",
        &per_run(runs, |x| x.guest_ssr.p50_us as f64 / 1e3),
        ms2,
        None,
    );
    t.row(
        "1. guest page rendered / bare axum (requests/s)",
        &per_run(runs, |x| x.guest_ssr.rps() / x.bare.rps()),
        pct,
        None,
    );
    t.row(
        "2. profile page SSR `/profile`, logged in: requests/s",
        &per_run(runs, |x| x.profile.rps()),
        rps,
        None,
    );
    t.row(
        "2. profile page: p50 latency",
        &per_run(runs, |x| x.profile.p50_us as f64 / 1e3),
        ms2,
        None,
    );
    t.row(
        "2. profile page: p99 latency",
        &per_run(runs, |x| x.profile.p99_us as f64 / 1e3),
        ms2,
        None,
    );
    t.row(
        "2. **profile page / guest page rendered** (requests/s, both Leptos SSR)",
        &per_run(runs, |x| x.profile.rps() / x.guest_ssr.rps()),
        pct,
        Some(("≥ 50%", |m| m >= 0.5)),
    );
    for (i, &(c, _)) in s.login_levels.iter().enumerate() {
        t.row(
            &format!("3. logins/s, {c} at a time"),
            &level_values(runs, i, |l| l.per_sec),
            per_sec,
            None,
        );
    }
    if let Some(i) = s.login_levels.iter().position(|&(c, _)| c == 1) {
        t.row(
            "3. login p50 (whole flow, 1 at a time)",
            &level_values(runs, i, |l| l.p50_ms),
            ms1,
            None,
        );
        t.row(
            "3. login p99 (whole flow, 1 at a time)",
            &level_values(runs, i, |l| l.p99_ms),
            ms1,
            None,
        );
        t.row(
            "3. **app server time per login**, median (1 at a time)",
            &level_values(runs, i, |l| {
                crate::stats::percentile(&crate::stats::sorted(l.app_ms.iter().copied()), 50.0)
            }),
            ms2,
            Some(("< 5 ms", |m| m < LOGIN_APP_MS_TARGET)),
        );
        t.row(
            "3. app server time per login, p99 (1 at a time)",
            &level_values(runs, i, |l| {
                crate::stats::percentile(&crate::stats::sorted(l.app_ms.iter().copied()), 99.0)
            }),
            ms2,
            None,
        );
        t.row(
            "3. app CPU time per login (1 at a time)",
            &level_values(runs, i, |l| l.app_cpu_ms),
            ms2,
            None,
        );
    }
    t.row(
        "3. **provider requests per login** after warm-up (worst level)",
        &per_run(runs, |x| {
            x.levels
                .iter()
                .map(|l| l.provider_requests_per_login())
                .fold(0.0, f64::max)
        }),
        num,
        Some(("exactly 1", |m| (m - 1.0).abs() < 1e-9)),
    );
    let file = |ext: &str| r.bundle.iter().find(|f| f.name.ends_with(ext));
    for ext in [".wasm", ".js", ".css"] {
        if let Some(f) = file(ext) {
            t.row(&format!("4. `{}` raw", f.name), &[f.raw as f64], kb, None);
            if ext == ".wasm" {
                t.row(
                    &format!("4. **`{}` gzip -9**", f.name),
                    &[f.gzip as f64],
                    kb,
                    Some(("≤ 200 KB", |m| m <= WASM_GZIP_TARGET)),
                );
            } else {
                t.row(
                    &format!("4. `{}` gzip -9", f.name),
                    &[f.gzip as f64],
                    kb,
                    None,
                );
            }
            t.row(
                &format!("4. `{}` brotli -q 11", f.name),
                &[f.brotli as f64],
                kb,
                None,
            );
        }
    }
    let visit: usize = r.first_visit.iter().map(|d| d.bytes).sum();
    t.row(
        "4. first visit downloads (bodies, as served)",
        &[visit as f64],
        kb,
        None,
    );
    t.row(
        "5. **server RSS idle**",
        &per_run(runs, |x| x.rss_idle as f64),
        mb,
        Some(("< 30 MB", |m| m < RSS_IDLE_TARGET)),
    );
    t.row(
        "5. server RSS after the load (pages, then logins)",
        &per_run(runs, |x| x.rss_after_logins as f64),
        mb,
        None,
    );
    t.row(
        &format!("5. server RSS after {} abandoned logins", s.sessions),
        &per_run(runs, |x| x.rss_after_sessions as f64),
        mb,
        None,
    );
    out.push_str(&t.0);

    // ---- logins ----
    let _ = writeln!(
        out,
        "\n### 3. Logins through the real flow (median (min–max) over the runs)\n"
    );
    let _ = writeln!(out, "| at a time | logins | logins/s | p50 | p99 | app time/login (mean) | app CPU/login | provider token handling | browser at provider | provider requests/login |");
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (i, &(c, _)) in s.login_levels.iter().enumerate() {
        let requests: Vec<String> = runs
            .iter()
            .filter_map(|x| x.levels.get(i))
            .map(|l| {
                format!(
                    "{} {:?}",
                    num(l.provider_requests_per_login()),
                    l.provider_requests
                )
            })
            .collect();
        let requests = requests.first().cloned().unwrap_or_default();
        let errors: usize = runs
            .iter()
            .filter_map(|x| x.levels.get(i))
            .map(|l| l.errors.len())
            .sum();
        let _ = writeln!(
            out,
            "| {c} | {}{} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&level_values(runs, i, |l| l.logins as f64), num),
            if errors > 0 {
                format!(" ({errors} failed)")
            } else {
                String::new()
            },
            cell(&level_values(runs, i, |l| l.per_sec), per_sec),
            cell(&level_values(runs, i, |l| l.p50_ms), ms1),
            cell(&level_values(runs, i, |l| l.p99_ms), ms1),
            cell(&level_values(runs, i, |l| l.app_ms_mean), ms2),
            cell(&level_values(runs, i, |l| l.app_cpu_ms), ms2),
            cell(&level_values(runs, i, |l| l.token_ms_mean), ms2),
            cell(&level_values(runs, i, |l| l.provider_ms_mean), ms1),
            requests.replace('"', "`"),
        );
    }
    if let Some(i) = s.login_levels.iter().position(|&(c, _)| c == 1) {
        let _ = writeln!(
            out,
            "\nOne at a time, the app's three requests of a login, client side (median): `/login` {}, `/callback` {} \
             (including the token request), `/profile` {}.",
            cell(&level_values(runs, i, |l| l.steps_ms.0), ms2),
            cell(&level_values(runs, i, |l| l.steps_ms.1), ms2),
            cell(&level_values(runs, i, |l| l.steps_ms.2), ms2),
        );
    }
    if let Some(first) = runs.first() {
        let _ = writeln!(
            out,
            "The first login after a start (cold) sent the provider {} requests: `{:?}`.",
            first.cold_login_requests.values().sum::<u64>(),
            first.cold_login_requests
        );
    }

    // ---- sizes ----
    let _ = writeln!(
        out,
        "\n### 4. Bundle (the release site's `pkg/`; 1 KB = 1000 bytes)\n"
    );
    let _ = writeln!(
        out,
        "| file | raw | gzip -9 | brotli -q 11 |\n|---|---:|---:|---:|"
    );
    for f in &r.bundle {
        let _ = writeln!(
            out,
            "| `{}` | {} B | {} B | {} B |",
            f.name, f.raw, f.gzip, f.brotli
        );
    }
    let _ = writeln!(out, "\nA first visit to `/` with an empty cache (browser's `Accept-Encoding: gzip, deflate, br, zstd`), bodies as the server sent them:\n");
    let _ = writeln!(
        out,
        "| resource | content-encoding | bytes |\n|---|---|---:|"
    );
    for d in &r.first_visit {
        let _ = writeln!(out, "| `{}` | {} | {} |", d.path, d.encoding, d.bytes);
    }
    let _ = writeln!(out, "| **total** | | **{visit}** |");

    // ---- memory and page details ----
    let _ = writeln!(out, "\n### 5. Memory and pages, per run\n");
    let _ = writeln!(out, "| run | RSS idle | after pages | after logins | after abandoned logins | abandoned logins (s) | session DB | guest page | profile page |");
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (i, x) in runs.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} ({:.1} s) | {} | {} B | {} B |",
            i + 1,
            mb(x.rss_idle as f64),
            mb(x.rss_after_pages as f64),
            mb(x.rss_after_logins as f64),
            mb(x.rss_after_sessions as f64),
            x.sessions_started,
            x.sessions_secs,
            mb(x.session_db_bytes as f64),
            x.guest_bytes,
            x.profile_bytes
        );
    }

    let _ = writeln!(out, "\n### How each figure is measured\n");
    out.push_str(METHOD);
    let _ = writeln!(out, "\nReproduce: `make bench` (after the tools in the README's setup); `BENCH_RUNS`, `BENCH_WRK_SECS`, `BENCH_WRK_CONNECTIONS`, `BENCH_LOGIN_LEVELS` (e.g. `1:100,4:200,16:400`) and `BENCH_SESSIONS` change the defaults.");
    out
}

const METHOD: &str = "\
- **Pages**: wrk (closed loop, fixed connections, `Accept: text/html`) against the release app and, in the same \
run, a bare axum 0.8 handler on tokio's multi-thread runtime (same release profile) that returns the guest page's \
exact bytes and headers, fetched from the app first: the physical limit of the HTTP stack on this machine, \
load generator included. Ratios are taken within a run. The app renders the guest page once and then serves \
it from memory to every request without a session cookie; `/?render` bypasses that cache (any query does), so \
it measures Leptos rendering the guest page on every request, the fair peer of `/profile`. `/profile` carries the cookie of a session that logged \
in through the real flow; each response is checked to be the full page, not a redirect.
- **Logins**: a browser-like client (new cookie jar per login) walks the real flow: the app's `/login`, the \
stand-in provider's redirects and FusionAuth-shaped form (its `action` read from the HTML), the app's `/callback`, \
then `/profile`. *App server time per login* = the client-side time of the app's three requests minus the \
provider's own handling time of that login's token request (from the provider's request log); it still \
includes loopback round trips and the provider's HTTP framing, so it is an upper bound. One at a time the i-th \
token request belongs to the i-th login; with overlapping logins only the mean is sound (and includes \
queueing on 2 shared cores). *App CPU per login* = the app process's user+system CPU time (/proc) over the \
batch divided by its logins. *Provider requests per login* = the stand-in's count of requests with the app's \
User-Agent, reset before each batch, after one warm-up login (discovery and JWKS are cached after it).
- **Size**: files on disk, compressed here at the highest levels; *first visit* = the page plus every same-site \
resource its `<link>`/`<script>` tags and hydration import name, bodies counted as received (no headers).
- **Memory**: VmRSS of the app process: 2 s after start (idle), after the page load and the logins, and after \
new browsers started that many more logins (each a new server-side session with a pending login, stored in SQLite).
";
