//! The app's log as text, for tests of what reaches it. One subscriber serves the whole test
//! process, whose tests run in parallel: a test looks only for a marker of its own.

use std::{
    io::Write,
    sync::{Mutex, OnceLock},
};

use tracing_subscriber::filter::LevelFilter;

fn buffer() -> &'static Mutex<Vec<u8>> {
    static BUFFER: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    BUFFER.get_or_init(|| Mutex::new(Vec::new()))
}

/// Appends to the shared buffer. The fmt layer writes each event with one `write`, so events
/// of parallel tests never interleave.
struct Capture;

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        buffer()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts capturing the log (INFO and up, plain text), once per test process.
pub fn capture() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_writer(|| Capture)
            .with_ansi(false)
            .with_max_level(LevelFilter::INFO)
            .try_init()
            .expect("no other global subscriber in the test process");
    });
}

/// Everything logged since [`capture`] started.
pub fn captured() -> String {
    String::from_utf8_lossy(&buffer().lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

/// A marker no other test logs.
pub fn unique_marker(name: &str) -> String {
    format!("{name}-{:016x}", rand::random::<u64>())
}
