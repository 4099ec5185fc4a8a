//! The app's log, for tests of what reaches it. One subscriber serves the whole test
//! process, whose tests run in parallel: a test looks only for a marker of its own.
//!
//! The app writes its log in one format per process (`LOG_FORMAT`), but a global subscriber
//! can be installed only once per process, and a second test binary would have to repeat the
//! flows. So the capture writes every event twice, through the app's own layer
//! (`logging::fmt_layer`) once as text and once as JSON, into two buffers: both formats see
//! the same events, and a test that reads both covers both.

use std::{
    io::Write,
    sync::{Mutex, OnceLock},
};

use fusionauth_leptos::server::logging::{fmt_layer, LogFormat};
use tracing_subscriber::{filter::LevelFilter, layer::SubscriberExt, util::SubscriberInitExt};

fn buffer(format: LogFormat) -> &'static Mutex<Vec<u8>> {
    static TEXT: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    static JSON: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    match format {
        LogFormat::Text => &TEXT,
        LogFormat::Json => &JSON,
    }
    .get_or_init(|| Mutex::new(Vec::new()))
}

/// Appends to the buffer of its format. The fmt layer writes each event with one `write`, so
/// events of parallel tests never interleave.
struct Capture(LogFormat);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        buffer(self.0)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts capturing the log (INFO and up, as text and as JSON), once per test process.
pub fn capture() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        tracing_subscriber::registry()
            .with(LevelFilter::INFO)
            .with(fmt_layer(
                LogFormat::Text,
                || Capture(LogFormat::Text),
                false,
            ))
            .with(fmt_layer(
                LogFormat::Json,
                || Capture(LogFormat::Json),
                false,
            ))
            .try_init()
            .expect("no other global subscriber in the test process");
    });
}

/// Everything logged as text since [`capture`] started.
pub fn captured() -> String {
    captured_as(LogFormat::Text)
}

/// Everything logged in `format` since [`capture`] started.
pub fn captured_as(format: LogFormat) -> String {
    let bytes = buffer(format).lock().unwrap_or_else(|p| p.into_inner());
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The JSON log's lines that belong to the request with id `id` (a span of theirs says so).
pub fn json_lines_of(id: &str) -> Vec<serde_json::Value> {
    captured_as(LogFormat::Json)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each JSON log line is one JSON object"))
        .filter(|line: &serde_json::Value| {
            line["spans"]
                .as_array()
                .is_some_and(|spans| spans.iter().any(|span| span["request_id"] == id))
        })
        .collect()
}

/// The text log's lines that belong to the request with id `id`.
pub fn text_lines_of(id: &str) -> Vec<String> {
    let field = format!("request_id={id}");
    captured()
        .lines()
        .filter(|line| line.split(['{', ' ', '}']).any(|word| word == field))
        .map(str::to_owned)
        .collect()
}

/// A marker no other test logs.
pub fn unique_marker(name: &str) -> String {
    format!("{name}-{:016x}", rand::random::<u64>())
}
