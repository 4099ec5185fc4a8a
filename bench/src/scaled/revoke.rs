//! Other users' latency while FusionAuth revokes a user with many sessions, beside their
//! latency without it, on the same topology in the same minutes.
//!
//! The victim's sessions are written straight into Redis (`victim.rs`). Then three windows
//! of `BENCH_WRK_SECS`, each with wrk on `/profile` through nginx as another user, logged in,
//! and a Redis PING probe beside it: A, no revocation; B, a third in, FusionAuth's signed
//! webhook (`webhook.rs`) revoking the victim (the app deletes the sessions 500 per script
//! call); C, with the victim's sessions written again, the webhook revoking the whole
//! application (one `INCR` of the epoch). C revokes the measuring user too, so its
//! `/profile` then redirects to the login: C is compared by Redis.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use reqwest::{header, Method};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    browser::{self, Browser, LOGGED_IN_MARK},
    harness::{ms, Env},
    load::{Wrk, WrkSummary},
    report::{cell, Figure, Table, Target, Unit},
    settings::Settings,
    stats::{percentile, sorted},
};

use super::{
    victim::{self, Victim},
    webhook::{self, Delivery},
};

/// The probe's pause between two PINGs.
const PROBE_GAP: Duration = Duration::from_millis(2);

pub struct Revocation {
    pub sessions: usize,
    /// A: no revocation.
    pub baseline: Phase,
    /// B: the victim revoked a third into the window.
    pub user: Phase,
    /// C: the whole application revoked a third into the window.
    pub app: Phase,
}

/// One window: wrk on `/profile`, the PING probe, and the webhook delivered in it, if any.
pub struct Phase {
    pub profile: WrkSummary,
    /// (seconds from the window's start, round trip in ms) per PING, in order.
    pub pings: Vec<(f64, f64)>,
    pub webhook: Option<Delivery>,
}

impl Phase {
    fn ping_ms(&self, p: f64) -> f64 {
        percentile(&sorted(self.pings.iter().map(|s| s.1)), p)
    }

    fn profile_p50_ms(&self) -> f64 {
        self.profile.p50_us as f64 / 1e3
    }

    fn profile_p99_ms(&self) -> f64 {
        self.profile.p99_us as f64 / 1e3
    }

    fn webhook_ms(&self) -> f64 {
        self.webhook.as_ref().map_or(f64::NAN, |d| d.ms)
    }

    /// The slowest PING in flight while the webhook was being answered.
    fn ping_max_during_webhook(&self) -> f64 {
        let Some(d) = &self.webhook else {
            return f64::NAN;
        };
        let end = d.at + d.ms / 1e3;
        self.pings
            .iter()
            .filter(|&&(at, rtt)| at <= end && at + rtt / 1e3 >= d.at)
            .map(|s| s.1)
            .fold(f64::NAN, f64::max)
    }
}

/// Measures the three windows on the running topology, Redis on `redis_port`.
pub async fn measure(
    settings: &Settings,
    env: &Env,
    redis_port: u16,
    browser: &Browser,
) -> Result<Revocation> {
    let victim = Victim::new(redis_port, settings.revoke_sessions)?;
    // A session of its own: the login levels may have pushed the first one past the
    // per-user cap (MAX_SESSIONS_PER_USER).
    let cookie = browser
        .fresh_session_cookie()
        .await
        .context("the measuring user's login")?;
    let page = profile(env, browser, &cookie).await?;
    ensure!(
        page.status == 200 && browser::contains(&page.body, LOGGED_IN_MARK),
        "/profile through nginx is not the profile ({})",
        page.status
    );
    let load = Load {
        env,
        wrk: Wrk {
            script: &env.wrk_script,
            threads: settings.wrk_threads,
            connections: settings.wrk_connections,
        },
        url: format!("http://127.0.0.1:{}/profile", env.app_port),
        headers: vec!["Accept: text/html".into(), format!("Cookie: {cookie}")],
        redis_port,
        secs: settings.wrk_secs,
        page_bytes: page.body.len(),
    };

    victim.write_sessions().await?;
    load.wrk
        .run(&load.url, &load.headers, settings.warm_secs)
        .await?;
    let baseline = load.window(Revoke::Nobody).await?;
    let before = victim.dbsize().await?;
    let user = load.window(Revoke::User).await?;
    victim.check_gone(before).await?;

    victim.write_sessions().await?;
    let app = load.window(Revoke::Everyone).await?;
    let after = profile(env, browser, &cookie).await?;
    ensure!(
        after.status.is_redirection(),
        "after the application-wide revocation /profile answered {} (expected a redirect to the login)",
        after.status
    );
    Ok(Revocation {
        sessions: victim.sessions,
        baseline,
        user,
        app,
    })
}

async fn profile(env: &Env, browser: &Browser, cookie: &str) -> Result<browser::Response> {
    let url = env.app_url()?.join("/profile")?;
    browser
        .request(None, Method::GET, &url, None, &[(header::COOKIE, cookie)])
        .await
}

/// What a window's webhook revokes.
#[derive(Clone, Copy)]
enum Revoke {
    Nobody,
    /// The victim, with every session.
    User,
    /// The whole application, the measuring user with it.
    Everyone,
}

impl Revoke {
    fn name(self) -> &'static str {
        match self {
            Revoke::Nobody => "A, no revocation",
            Revoke::User => "B, a user revoked",
            Revoke::Everyone => "C, the application revoked",
        }
    }

    fn webhook(self) -> Result<Option<Vec<u8>>> {
        match self {
            Revoke::Nobody => Ok(None),
            Revoke::User => webhook::revocation(Some(victim::SUB)).map(Some),
            Revoke::Everyone => webhook::revocation(None).map(Some),
        }
    }
}

struct Load<'a> {
    env: &'a Env,
    wrk: Wrk<'a>,
    url: String,
    headers: Vec<String>,
    redis_port: u16,
    secs: u64,
    /// The profile page's body: a shorter response was not the page.
    page_bytes: usize,
}

impl Load<'_> {
    /// One window, with the webhook `revoke` delivered a third into it.
    async fn window(&self, revoke: Revoke) -> Result<Phase> {
        let name = revoke.name();
        let webhook = revoke.webhook()?;
        let origin = Instant::now();
        let length = Duration::from_secs(self.secs);
        let delivery = async {
            let Some(body) = webhook else {
                return Ok(None);
            };
            tokio::time::sleep_until((origin + length / 3).into()).await;
            webhook::deliver(self.env, origin, body).await.map(Some)
        };
        let (profile, pings, webhook) = tokio::try_join!(
            self.wrk.run(&self.url, &self.headers, self.secs),
            probe(self.redis_port, origin, length),
            delivery,
        )?;
        ensure!(
            profile.errors() == 0,
            "revocation window {name}: wrk saw {} errors ({profile:?})",
            profile.errors()
        );
        // A 302 (session lost) is no error for wrk: whole pages, unless the user was revoked.
        ensure!(
            matches!(revoke, Revoke::Everyone)
                || profile.bytes_per_request() >= self.page_bytes as f64,
            "revocation window {name}: /profile responses are shorter than the page"
        );
        let phase = Phase {
            profile,
            pings,
            webhook,
        };
        eprintln!(
            "bench:   revoke {name}: /profile {:.0} req/s p99 {:.2} ms; Redis PING p50 {:.3} ms p99 {:.3} ms ({} PINGs){}",
            profile.rps(),
            phase.profile_p99_ms(),
            phase.ping_ms(50.0),
            phase.ping_ms(99.0),
            phase.pings.len(),
            phase.webhook.as_ref().map_or(String::new(), |d| format!(
                "; webhook at {:.2} s answered in {:.1} ms, slowest PING meanwhile {:.3} ms",
                d.at,
                d.ms,
                phase.ping_max_during_webhook()
            ))
        );
        if phase
            .webhook
            .as_ref()
            .is_some_and(|d| d.at + d.ms / 1e3 > self.secs as f64)
        {
            eprintln!("bench:   revoke {name}: the webhook outlasted the window");
        }
        Ok(phase)
    }
}

/// PINGs Redis a few ms apart, each over the same connection, until `length` after `origin`.
/// Returns (seconds from `origin`, round trip in ms) per PING.
async fn probe(port: u16, origin: Instant, length: Duration) -> Result<Vec<(f64, f64)>> {
    let mut redis = TcpStream::connect(("127.0.0.1", port))
        .await
        .context("connect the Redis probe")?;
    redis.set_nodelay(true)?;
    let mut pings = Vec::new();
    let mut reply = [0u8; 7];
    while origin.elapsed() < length {
        let sent = Instant::now();
        tokio::time::timeout(Duration::from_secs(5), async {
            redis.write_all(b"PING\r\n").await?;
            redis.read_exact(&mut reply).await
        })
        .await
        .context("Redis did not answer PING within 5 s")??;
        let rtt = sent.elapsed();
        ensure!(
            &reply == b"+PONG\r\n",
            "Redis answered PING with {:?}",
            String::from_utf8_lossy(&reply)
        );
        pings.push((sent.duration_since(origin).as_secs_f64(), ms(rtt)));
        tokio::time::sleep(PROBE_GAP).await;
    }
    Ok(pings)
}

/// 100000 as "100,000".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A summary line as data: label, the figure of one run, unit, target.
type Line = (String, fn(&Revocation) -> f64, Unit, Option<Target>);

const WITHIN_2X: Option<Target> = Some(Target {
    text: "≤ 2× (200%)",
    met: |m| m <= 2.0,
});

pub fn figures(runs: &[&Revocation]) -> Vec<Figure> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    let n = thousands(first.sessions);
    #[rustfmt::skip]
    let lines: [Line; 10] = [
        ("`/profile` p99 (other user), no revocation, 2 replicas + Redis through nginx".into(),
            |r| r.baseline.profile_p99_ms(), Unit::Ms, None),
        (format!("`/profile` p99 during a revocation of a user with {n} sessions"),
            |r| r.user.profile_p99_ms(), Unit::Ms, None),
        ("**`/profile` p99: during the revocation / without**".into(),
            |r| r.user.profile_p99_ms() / r.baseline.profile_p99_ms(), Unit::Percent, WITHIN_2X),
        ("Redis PING p99 beside that load, no revocation".into(),
            |r| r.baseline.ping_ms(99.0), Unit::Ms, None),
        (format!("Redis PING p99 during the revocation of the user with {n} sessions"),
            |r| r.user.ping_ms(99.0), Unit::Ms, None),
        ("Redis PING p99 during an application-wide revocation (`/profile` answers 302 after it)".into(),
            |r| r.app.ping_ms(99.0), Unit::Ms, None),
        ("Redis PING p99: user revocation / none".into(),
            |r| r.user.ping_ms(99.0) / r.baseline.ping_ms(99.0), Unit::Percent, None),
        ("**Redis PING p99: application-wide revocation / none**".into(),
            |r| r.app.ping_ms(99.0) / r.baseline.ping_ms(99.0), Unit::Percent, WITHIN_2X),
        (format!("webhook revoking the user with {n} sessions, answered in"),
            |r| r.user.webhook_ms(), Unit::Ms, None),
        ("webhook revoking the whole application (one `INCR`), answered in".into(),
            |r| r.app.webhook_ms(), Unit::Ms, None),
    ];
    lines
        .into_iter()
        .map(|(label, value, unit, target)| Figure {
            label,
            values: runs.iter().map(|r| value(r)).collect(),
            unit,
            target,
        })
        .collect()
}

pub fn table(runs: &[&Revocation]) -> Option<Table> {
    let n = thousands(runs.first()?.sessions);
    let phases: [fn(&Revocation) -> &Phase; 3] = [|r| &r.baseline, |r| &r.user, |r| &r.app];
    let row = |label: &str, unit: Unit, f: &dyn Fn(&Phase) -> f64| {
        std::iter::once(label.to_owned())
            .chain(phases.iter().map(|phase| {
                let values: Vec<f64> = runs.iter().map(|r| f(phase(r))).collect();
                cell(&values, unit)
            }))
            .collect()
    };
    Some(Table {
        title: "Revocation under load: another user's `/profile` through nginx (2 replicas + Redis) and a Redis PING probe, \
                per window (median (min–max) over the runs)"
            .into(),
        header: vec![
            String::new(),
            "A: no revocation".into(),
            format!("B: a user with {n} sessions revoked"),
            "C: the whole application revoked".into(),
        ],
        rows: vec![
            row("`/profile` requests/s", Unit::PerSec, &|p| p.profile.rps()),
            row("`/profile` p50", Unit::Ms, &|p| p.profile_p50_ms()),
            row("`/profile` p99", Unit::Ms, &|p| p.profile_p99_ms()),
            row("Redis PING p50", Unit::Ms, &|p| p.ping_ms(50.0)),
            row("Redis PING p99", Unit::Ms, &|p| p.ping_ms(99.0)),
            row("Redis PING, slowest while the webhook was answered", Unit::Ms, &Phase::ping_max_during_webhook),
            row("webhook answered in", Unit::Ms, &Phase::webhook_ms),
        ],
        notes: vec![
            "In C the measuring user is revoked with everyone: after the webhook `/profile` answers 302 to the login \
             (wrk does not count 3xx as errors), so C's `/profile` figures mix pages and redirects. C is compared by \
             Redis's PING."
                .into(),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    fn phase(p99_us: u64, pings: &[(f64, f64)], webhook: Option<(f64, f64)>) -> Phase {
        Phase {
            profile: WrkSummary {
                requests: 1000,
                duration_us: 1_000_000,
                bytes: 0,
                connect: 0,
                read: 0,
                write: 0,
                timeout: 0,
                status: 0,
                p50_us: 1_000,
                p99_us,
                max_us: p99_us,
            },
            pings: pings.to_vec(),
            webhook: webhook.map(|(at, ms)| Delivery { at, ms }),
        }
    }

    #[test]
    fn ratios_are_taken_within_each_run_and_pings_in_flight_count() {
        // A PING sent before the webhook and answered during it counts; one after does not.
        let pings = [(0.9, 200.0), (1.0, 0.1), (2.0, 5.0), (2.5, 0.2)];
        let runs: Vec<Revocation> = [(2_000, 3_000), (8_000, 4_000)]
            .into_iter()
            .map(|(a, b)| Revocation {
                sessions: 100_000,
                baseline: phase(a, &[(0.0, 0.1), (0.1, 0.2)], None),
                user: phase(b, &pings, Some((1.0, 1000.0))),
                app: phase(1, &[(0.5, 0.4)], Some((0.5, 2.0))),
            })
            .collect();
        let refs: Vec<&Revocation> = runs.iter().collect();
        let figures = figures(&refs);
        let values = |label: &str| {
            let f = figures.iter().find(|f| f.label.contains(label)).unwrap();
            (f.values.clone(), f.target.map(|t| (t.met)(f.values[0])))
        };
        assert_eq!(
            values("during the revocation / without"),
            (vec![1.5, 0.5], Some(true))
        );
        assert_eq!(
            values("application-wide revocation / none"),
            (vec![2.0, 2.0], Some(true))
        );
        assert!(figures[1].label.contains("100,000 sessions"));
        assert_eq!(runs[0].user.ping_max_during_webhook(), 200.0);
        assert!(runs[0].baseline.ping_max_during_webhook().is_nan());
        let t = table(&refs).unwrap();
        let slowest = t.rows.iter().find(|r| r[0].contains("slowest")).unwrap();
        assert_eq!(slowest[1..], ["–", "200.00 ms", "0.40 ms"]);
    }
}
