//! What the run found and did, printed as it happens, and the exit status it adds up to.

/// Process exit status: "done", "nothing to do" and failure are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Changes were made (with `--dry-run`: would be made).
    Changed = 0,
    /// The run failed.
    Failed = 1,
    /// FusionAuth already matched; nothing was written.
    NothingToDo = 3,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// Collects the steps' lines; each line is also printed straight away.
#[derive(Debug)]
pub struct Report {
    dry_run: bool,
    changes: usize,
    lines: Vec<String>,
}

impl Report {
    pub fn new(dry_run: bool) -> Self {
        Self {
            dry_run,
            changes: 0,
            lines: Vec::new(),
        }
    }

    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// A step found things as they should be.
    pub fn ok(&mut self, step: &str, found: impl AsRef<str>) {
        self.line(format!("[ok]      {step}: {}", found.as_ref()));
    }

    /// A step changed something (or, in a dry run, would have).
    pub fn changed(&mut self, step: &str, found: impl AsRef<str>, action: impl AsRef<str>) {
        self.changes += 1;
        let (tag, verb) = if self.dry_run {
            ("[plan]   ", "would ")
        } else {
            ("[changed]", "")
        };
        self.line(format!(
            "{tag} {step}: {}; {verb}{}",
            found.as_ref(),
            action.as_ref()
        ));
    }

    /// A step left something alone, with the reason.
    pub fn skipped(&mut self, step: &str, why: impl AsRef<str>) {
        self.line(format!("[skipped] {step}: {}", why.as_ref()));
    }

    fn line(&mut self, line: String) {
        println!("{line}");
        self.lines.push(line);
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn changes(&self) -> usize {
        self.changes
    }

    /// The closing line.
    pub fn summary(&self) -> String {
        match (self.changes, self.dry_run) {
            (0, _) => "Nothing to do: FusionAuth already matches.".to_owned(),
            (n, true) => format!("Dry run: {n} change(s) would be made; nothing was written."),
            (n, false) => format!("Done: {n} change(s) made."),
        }
    }

    pub fn exit_status(&self) -> ExitStatus {
        if self.changes == 0 {
            ExitStatus::NothingToDo
        } else {
            ExitStatus::Changed
        }
    }
}
