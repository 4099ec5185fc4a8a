//! The report as data, and the one function that renders it to markdown.
//!
//! Each measuring module turns its results into [`Figure`]s (one line of the summary: values
//! over the runs or samples, a unit, maybe a target) and [`Table`]s (details). [`render`]
//! knows nothing about what was measured.

use std::fmt::Write as _;

use crate::stats::Spread;

#[derive(Clone, Copy)]
pub enum Unit {
    PerSec,
    Rate,
    Ms,
    Percent,
    Kb,
    Mb,
    Count,
}

impl Unit {
    pub fn show(self, x: f64) -> String {
        match self {
            Unit::PerSec => format!("{x:.0}"),
            Unit::Rate => format!("{x:.1}"),
            Unit::Ms => format!("{x:.2} ms"),
            Unit::Percent => format!("{:.0}%", x * 100.0),
            Unit::Kb => format!("{:.1} KB", x / 1e3),
            Unit::Mb => format!("{:.1} MB", x / 1e6),
            Unit::Count if (x - x.round()).abs() < 0.005 => format!("{x:.0}"),
            Unit::Count => format!("{x:.2}"),
        }
    }
}

/// A goal for a figure's median.
#[derive(Clone, Copy)]
pub struct Target {
    pub text: &'static str,
    pub met: fn(f64) -> bool,
}

/// One line of the summary.
pub struct Figure {
    pub label: String,
    pub values: Vec<f64>,
    pub unit: Unit,
    pub target: Option<Target>,
}

impl Figure {
    pub fn new(label: impl Into<String>, values: Vec<f64>, unit: Unit) -> Self {
        Self {
            label: label.into(),
            values,
            unit,
            target: None,
        }
    }

    pub fn target(mut self, text: &'static str, met: fn(f64) -> bool) -> Self {
        self.target = Some(Target { text, met });
        self
    }
}

/// A detail table.
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Text under the table.
    pub notes: Vec<String>,
}

/// Everything the report says.
pub struct Document {
    pub preamble: String,
    pub summary: Vec<Figure>,
    pub tables: Vec<Table>,
    pub method: &'static str,
}

/// "median (min–max)", or the value alone when the runs agree.
pub fn cell(values: &[f64], unit: Unit) -> String {
    match Spread::of(values) {
        Some(s) if (s.max - s.min).abs() < f64::EPSILON => unit.show(s.median),
        Some(s) => format!(
            "{} ({}–{})",
            unit.show(s.median),
            unit.show(s.min),
            unit.show(s.max)
        ),
        None => "–".into(),
    }
}

pub fn render(doc: &Document) -> String {
    let mut out = String::from("## Benchmark results\n\n");
    let _ = writeln!(out, "{}\n", doc.preamble);
    out.push_str(
        "| figure | min | median | max | target | status |\n|---|---:|---:|---:|---|---|\n",
    );
    for f in &doc.summary {
        let (target, status) = match (f.target, Spread::of(&f.values)) {
            (Some(t), Some(s)) => (
                t.text,
                if (t.met)(s.median) {
                    "met"
                } else {
                    "**missed**"
                },
            ),
            (Some(t), None) => (t.text, "no data"),
            (None, _) => ("", ""),
        };
        let [min, median, max] = match Spread::of(&f.values) {
            Some(s) => [s.min, s.median, s.max].map(|x| f.unit.show(x)),
            None => ["–".into(), "–".into(), "–".into()],
        };
        let _ = writeln!(
            out,
            "| {} | {min} | {median} | {max} | {target} | {status} |",
            f.label
        );
    }
    for t in &doc.tables {
        let _ = writeln!(out, "\n### {}\n", t.title);
        let _ = writeln!(out, "| {} |", t.header.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(t.header.len()));
        for row in &t.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        for note in &t.notes {
            let _ = writeln!(out, "\n{note}");
        }
    }
    let _ = writeln!(out, "\n### How each figure is measured\n");
    out.push_str(doc.method);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_figures_with_their_targets_and_tables() {
        let doc = Document {
            preamble: "today".into(),
            summary: vec![
                Figure::new("wasm", vec![40_000.0], Unit::Kb).target("≤ 50 KB", |m| m <= 50e3),
                Figure::new("ratio", vec![0.4, 0.5, 0.6], Unit::Percent)
                    .target("≥ 75%", |m| m >= 0.75),
                Figure::new("empty", vec![], Unit::Ms),
            ],
            tables: vec![Table {
                title: "Details".into(),
                header: vec!["a".into(), "b".into()],
                rows: vec![vec!["1".into(), cell(&[1.0, 3.0, 2.0], Unit::Count)]],
                notes: vec!["a note".into()],
            }],
            method: "- how\n",
        };
        let text = render(&doc);
        assert!(text.contains("| wasm | 40.0 KB | 40.0 KB | 40.0 KB | ≤ 50 KB | met |"));
        assert!(text.contains("| ratio | 40% | 50% | 60% | ≥ 75% | **missed** |"));
        assert!(text.contains("| empty | – | – | – |  |  |"));
        assert!(text.contains("| 1 | 2 (1–3) |"));
        assert!(text.contains("\na note\n"));
    }
}
