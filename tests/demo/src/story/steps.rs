//! How the walkthrough runs a step: a numbered title, the step's own narration, then what it
//! saw or why it did not hold; the first step that does not hold stops the walkthrough.

use std::future::Future;
use std::time::{Duration, Instant};

use passerelle_core::PasserelleError;
use passerelle_sandbox::SandboxError;
use passerelle_sandbox::drivers::consent::ConsentError;

use crate::ui::{Outcome, Record, Ui};

/// Why a step did not hold.
#[derive(Debug)]
pub struct DemoError(String);

impl DemoError {
    pub(super) fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl From<PasserelleError> for DemoError {
    fn from(err: PasserelleError) -> Self {
        Self(format!("{err} [{}]", err.code()))
    }
}

impl From<SandboxError> for DemoError {
    fn from(err: SandboxError) -> Self {
        Self(format!("sandbox: {err}"))
    }
}

impl From<ConsentError> for DemoError {
    fn from(err: ConsentError) -> Self {
        Self(format!("consent page: {err}"))
    }
}

/// Fails the step with a formatted reason unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err($crate::story::steps::DemoError::new(format!($($arg)+)));
        }
    };
}
pub(super) use ensure;

pub(super) type StepResult<T> = Result<(T, String), DemoError>;

/// The step that stopped the walkthrough.
#[derive(Debug)]
pub struct Stopped {
    pub number: usize,
    pub title: String,
    pub reason: String,
}

/// Runs the steps in order and keeps their records for the summary.
pub struct Steps {
    pub(super) ui: Ui,
    pub(super) records: Vec<Record>,
}

impl Steps {
    pub(super) fn new(ui: Ui) -> Self {
        Self {
            ui,
            records: Vec::new(),
        }
    }

    /// Prints the step's title, runs it, prints and records what it saw.
    pub(super) async fn run<T>(
        &mut self,
        title: &str,
        body: impl Future<Output = StepResult<T>>,
    ) -> Result<T, Stopped> {
        let number = self.records.len() + 1;
        self.ui.step_header(number, title);
        let started = Instant::now();
        let result = body.await;
        let elapsed = started.elapsed();
        match result {
            Ok((value, summary)) => {
                self.ui.step_ok(&summary, elapsed);
                self.records.push(Record {
                    title: title.to_owned(),
                    outcome: Outcome::Held(summary),
                    elapsed,
                });
                Ok(value)
            }
            Err(DemoError(reason)) => {
                self.ui.step_failed(&reason, elapsed);
                self.records.push(Record {
                    title: title.to_owned(),
                    outcome: Outcome::Failed(reason.clone()),
                    elapsed,
                });
                Err(Stopped {
                    number,
                    title: title.to_owned(),
                    reason,
                })
            }
        }
    }
}

/// Polls `check` every 50 ms until it answers `Some`, up to `limit`.
pub(super) async fn poll<T, F, Fut>(limit: Duration, mut check: F) -> Result<Option<T>, DemoError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, DemoError>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await? {
            return Ok(Some(value));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
