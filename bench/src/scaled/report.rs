//! The scaled topology's figures beside the single process's, run by run: each ratio is
//! taken within one run (the same minutes of the same shared machine), then spread over the runs.

use super::{revoke, Scaled};
use crate::{
    logins::{Level, Logins},
    pages::Pages,
    redis_stats::{show, total},
    report::{cell, Figure, Table, Unit},
};

/// One run's single process and scaled topology.
pub type Side<'a> = (&'a Pages, &'a Logins, &'a Scaled);

fn per_run(runs: &[Side], f: impl Fn(&Side) -> f64) -> Vec<f64> {
    runs.iter().map(f).filter(|x| x.is_finite()).collect()
}

fn at(logins: &Logins, i: usize, f: fn(&Level) -> f64) -> f64 {
    logins.levels.get(i).map_or(f64::NAN, f)
}

fn per_sec(l: &Level) -> f64 {
    l.per_sec
}

pub fn figures(runs: &[Side]) -> Vec<Figure> {
    let Some(&(_, first, _)) = runs.first() else {
        return Vec::new();
    };
    let mut out = vec![
        Figure::new(
            "profile page through nginx, 2 replicas + Redis: requests/s",
            per_run(runs, |(_, _, s)| s.profile.rps()),
            Unit::PerSec,
        ),
        Figure::new(
            "**profile page: 2 replicas + Redis through nginx / 1 process + SQLite**",
            per_run(runs, |(p, _, s)| s.profile.rps() / p.profile.rps()),
            Unit::Percent,
        ),
    ];
    for (i, l) in first.levels.iter().enumerate() {
        out.push(Figure::new(
            format!(
                "logins/s, {} at a time, 2 replicas + Redis through nginx",
                l.concurrency
            ),
            per_run(runs, |(_, _, s)| at(&s.logins, i, per_sec)),
            Unit::Rate,
        ));
    }
    let busiest = first
        .levels
        .iter()
        .enumerate()
        .max_by_key(|(_, l)| l.concurrency);
    if let Some((i, l)) = busiest {
        out.push(Figure::new(
            format!(
                "**logins/s, {} at a time: 2 replicas + Redis / 1 process + SQLite**",
                l.concurrency
            ),
            per_run(runs, |(_, single, s)| {
                at(&s.logins, i, per_sec) / at(single, i, per_sec)
            }),
            Unit::Percent,
        ));
    }
    out.push(
        Figure::new(
            "**Redis round trips per profile request** (`INFO commandstats`)",
            per_run(runs, |(_, _, s)| total(&s.profile_calls)),
            Unit::Count,
        )
        .target("exactly 1 (the session read)", |m| (m - 1.0).abs() < 0.01),
    );
    out.extend(revoke::figures(&revocations(runs)));
    out
}

fn revocations<'a>(runs: &[Side<'a>]) -> Vec<&'a revoke::Revocation> {
    runs.iter()
        .filter_map(|&(_, _, s)| s.revocation.as_ref())
        .collect()
}

/// The revocation windows' details, when they were measured.
pub fn revocation_table(runs: &[Side]) -> Option<Table> {
    revoke::table(&revocations(runs))
}

/// One row: the single process's figure, the scaled one's, and their ratio, over the runs.
fn row(runs: &[Side], label: String, unit: Unit, f: impl Fn(&Side) -> (f64, f64)) -> Vec<String> {
    let pairs: Vec<(f64, f64)> = runs.iter().map(f).collect();
    let finite = |v: Vec<f64>| v.into_iter().filter(|x| x.is_finite()).collect::<Vec<_>>();
    vec![
        label,
        cell(&finite(pairs.iter().map(|p| p.0).collect()), unit),
        cell(&finite(pairs.iter().map(|p| p.1).collect()), unit),
        cell(
            &finite(pairs.iter().map(|p| p.1 / p.0).collect()),
            Unit::Percent,
        ),
    ]
}

pub fn table(runs: &[Side]) -> Table {
    let first = runs.first().map(|&(_, l, _)| l);
    let levels = first.map_or(&[][..], |l| &l.levels[..]);
    let ms = |us: u64| us as f64 / 1e3;
    let mut rows = vec![
        row(
            runs,
            "`/profile` requests/s".into(),
            Unit::PerSec,
            |(p, _, s)| (p.profile.rps(), s.profile.rps()),
        ),
        row(runs, "`/profile` p50".into(), Unit::Ms, |(p, _, s)| {
            (ms(p.profile.p50_us), ms(s.profile.p50_us))
        }),
        row(runs, "`/profile` p99".into(), Unit::Ms, |(p, _, s)| {
            (ms(p.profile.p99_us), ms(s.profile.p99_us))
        }),
    ];
    for (i, l) in levels.iter().enumerate() {
        rows.push(row(
            runs,
            format!("logins/s, {} at a time", l.concurrency),
            Unit::Rate,
            |(_, single, s)| (at(single, i, per_sec), at(&s.logins, i, per_sec)),
        ));
    }
    if let Some(i) = levels.iter().position(|l| l.concurrency == 1) {
        rows.push(row(
            runs,
            "app time per login (mean), 1 at a time".into(),
            Unit::Ms,
            |(_, single, s)| {
                (
                    at(single, i, |l| l.app_ms_mean),
                    at(&s.logins, i, |l| l.app_ms_mean),
                )
            },
        ));
        rows.push(row(
            runs,
            "app CPU per login, 1 at a time".into(),
            Unit::Ms,
            |(_, single, s)| {
                (
                    at(single, i, |l| l.app_cpu_ms),
                    at(&s.logins, i, |l| l.app_cpu_ms),
                )
            },
        ));
    }
    let worst = |l: &Logins| {
        l.levels
            .iter()
            .map(Level::provider_requests_per_login)
            .fold(0.0, f64::max)
    };
    rows.push(row(
        runs,
        "provider requests per login (worst level)".into(),
        Unit::Count,
        |(_, single, s)| (worst(single), worst(&s.logins)),
    ));
    rows.push(row(
        runs,
        "Redis round trips per `/profile`, one at a time".into(),
        Unit::Count,
        |(_, _, s)| (f64::NAN, total(&s.profile_calls)),
    ));
    rows.push(row(
        runs,
        "Redis calls per `/profile` under wrk".into(),
        Unit::Count,
        |(_, _, s)| (f64::NAN, s.profile_calls_loaded),
    ));
    rows.push(row(
        runs,
        "Redis calls per login".into(),
        Unit::Count,
        |(_, _, s)| (f64::NAN, total(&s.login_calls)),
    ));

    let mut notes: Vec<String> = runs
        .iter()
        .enumerate()
        .map(|(i, (_, _, s))| {
            format!(
                "Run {}, Redis calls by command: per `/profile` {}; per login {}.",
                i + 1,
                show(&s.profile_calls, Unit::Count),
                show(&s.login_calls, Unit::Count)
            )
        })
        .collect();
    notes.push(
        "Redis counts a script's inner commands as calls too: a login's `eval` is one round trip \
         plus the commands it runs. App CPU of the scaled topology is both replicas' (not nginx's \
         or Redis's)."
            .into(),
    );
    if let Some(&(_, _, s)) = runs.first() {
        notes.push(format!(
            "The first login through nginx (cold) sent the provider {} requests, `{:?}`: each replica discovers the provider and fetches its keys on its own.",
            s.logins.cold_requests.values().sum::<u64>(),
            s.logins.cold_requests
        ));
    }
    Table {
        title: "Scaled out: 1 process + SQLite beside 2 replicas + Redis through nginx, same run (median (min–max) over the runs)".into(),
        header: ["", "1 process + SQLite", "2 replicas + Redis through nginx", "scaled / single"]
            .map(String::from)
            .to_vec(),
        rows,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::load::WrkSummary;

    fn wrk(rps: u64) -> WrkSummary {
        WrkSummary {
            requests: rps,
            duration_us: 1_000_000,
            bytes: 0,
            connect: 0,
            read: 0,
            write: 0,
            timeout: 0,
            status: 0,
            p50_us: 1_000,
            p99_us: 2_000,
            max_us: 3_000,
        }
    }

    fn level(concurrency: usize, per_sec: f64) -> Level {
        Level {
            concurrency,
            logins: 10,
            errors: vec![],
            per_sec,
            p50_ms: 1.0,
            p99_ms: 2.0,
            app_ms: vec![],
            app_ms_mean: 3.0,
            token_ms_mean: 1.0,
            app_cpu_ms: 2.0,
            provider_requests: BTreeMap::from([("/oauth2/token".to_owned(), 10)]),
            steps_ms: (1.0, 1.0, 1.0),
        }
    }

    fn logins(levels: [(usize, f64); 2]) -> Logins {
        Logins {
            cold_requests: BTreeMap::new(),
            levels: levels.map(|(c, r)| level(c, r)).into(),
        }
    }

    /// Two runs whose single-process figures differ: run 1 is slow, run 2 fast.
    fn runs() -> Vec<(Pages, Logins, Scaled)> {
        [(1000, 500, 40.0, 10.0), (2000, 2000, 80.0, 80.0)]
            .into_iter()
            .map(|(single_rps, scaled_rps, single_logins, scaled_logins)| {
                let pages = Pages {
                    bare: wrk(1),
                    guest: wrk(1),
                    guest_ssr: wrk(1),
                    profile: wrk(single_rps),
                    guest_bytes: 1,
                    profile_bytes: 1,
                };
                let scaled = Scaled {
                    profile: wrk(scaled_rps),
                    // Levels in any order: the busiest is found by its concurrency.
                    logins: logins([(16, scaled_logins), (1, 5.0)]),
                    profile_calls: BTreeMap::from([("get".to_owned(), 1.0)]),
                    profile_calls_loaded: 1.0,
                    login_calls: BTreeMap::from([
                        ("eval".to_owned(), 1.0),
                        ("set".to_owned(), 2.5),
                    ]),
                    revocation: None,
                };
                (pages, logins([(16, single_logins), (1, 10.0)]), scaled)
            })
            .collect()
    }

    #[test]
    fn ratios_are_taken_within_each_run() {
        let data = runs();
        let sides: Vec<Side> = data.iter().map(|(p, l, s)| (p, l, s)).collect();
        let figures = figures(&sides);
        let values = |label: &str| {
            figures
                .iter()
                .find(|f| f.label.contains(label))
                .unwrap_or_else(|| panic!("no figure {label}"))
                .values
                .clone()
        };
        // Not the ratio of the medians (1250 / 1500).
        assert_eq!(values("profile page: 2 replicas"), vec![0.5, 1.0]);
        assert_eq!(
            values("logins/s, 16 at a time: 2 replicas"),
            vec![0.25, 1.0]
        );
        assert_eq!(values("logins/s, 1 at a time, 2 replicas"), vec![5.0, 5.0]);
        let round_trips = figures
            .iter()
            .find(|f| f.label.contains("round trips"))
            .unwrap();
        assert_eq!(round_trips.values, vec![1.0, 1.0]);
        assert!((round_trips.target.unwrap().met)(1.0));
        assert!(!(round_trips.target.unwrap().met)(2.0));
    }

    #[test]
    fn the_table_sets_both_sides_and_their_ratio_in_one_row() {
        let data = runs();
        let sides: Vec<Side> = data.iter().map(|(p, l, s)| (p, l, s)).collect();
        let t = table(&sides);
        let row = |label: &str| {
            t.rows
                .iter()
                .find(|r| r[0].contains(label))
                .unwrap_or_else(|| panic!("no row {label}"))
                .clone()
        };
        assert_eq!(
            row("`/profile` requests/s"),
            [
                "`/profile` requests/s",
                "1500 (1000–2000)",
                "1250 (500–2000)",
                "75% (50%–100%)"
            ]
        );
        // Redis figures exist only for the scaled side: no ratio.
        assert_eq!(row("Redis calls per login")[1..], ["–", "3.50", "–"]);
        assert!(t.notes[0].contains("per `/profile` `get` 1; per login `eval` 1, `set` 2.50"));
    }
}
