//! What the person following the walkthrough sees: numbered steps, narration, a spinner on the
//! waiting steps and the summary table. Plain text when stdout is not a terminal (dots instead
//! of a spinner, no colours), so the output reads the same in a log.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Output settings, decided once.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    tty: bool,
    color: bool,
}

impl Ui {
    pub fn new() -> Self {
        let tty = std::io::stdout().is_terminal();
        let color = tty && std::env::var_os("NO_COLOR").is_none();
        Self { tty, color }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    pub fn banner(&self, lines: &[&str]) {
        let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let rule = "═".repeat(width + 2);
        println!("╔{rule}╗");
        for line in lines {
            let pad = " ".repeat(width - line.chars().count());
            println!("║ {}{pad} ║", self.bold(line));
        }
        println!("╚{rule}╝");
    }

    pub fn step_header(&self, number: usize, title: &str) {
        println!();
        println!("{}", self.bold(&format!("{number:>2}. {title}")));
    }

    /// A line of narration under the current step.
    pub fn say(&self, text: &str) {
        println!("    {text}");
    }

    /// A detail line (ids, URLs), dimmed on a terminal.
    pub fn detail(&self, text: &str) {
        println!("    {}", self.dim(text));
    }

    pub fn step_ok(&self, result: &str, elapsed: Duration) {
        println!(
            "    {} {result} {}",
            self.paint("32", "✓"),
            self.dim(&format!("({})", duration(elapsed)))
        );
    }

    pub fn step_failed(&self, reason: &str, elapsed: Duration) {
        println!(
            "    {} {} {}",
            self.paint("31", "✗"),
            self.paint("31", reason),
            self.dim(&format!("({})", duration(elapsed)))
        );
    }

    /// Runs `fut` while showing that something is awaited: a spinner with the elapsed time on a
    /// terminal, a dot every half second otherwise.
    pub async fn wait<T>(&self, label: &str, fut: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let mut fut = std::pin::pin!(fut);
        let period = if self.tty { 100 } else { 500 };
        let mut tick = tokio::time::interval(Duration::from_millis(period));
        let mut frame = 0usize;
        let mut out = std::io::stdout();
        if !self.tty {
            print!("    {label} ");
        }
        let value = loop {
            tokio::select! {
                value = &mut fut => break value,
                _ = tick.tick() => {
                    if self.tty {
                        let spinner = self.paint("36", FRAMES[frame % FRAMES.len()]);
                        print!("\r    {spinner} {label} {}", self.dim(&format!("({:.1} s)", started.elapsed().as_secs_f64())));
                    } else {
                        print!(".");
                    }
                    frame += 1;
                    let _ = out.flush();
                }
            }
        };
        if self.tty {
            print!("\r\x1b[2K");
        } else {
            println!();
        }
        let _ = out.flush();
        value
    }

    /// The table at the end: step, result, time.
    pub fn summary(&self, records: &[Record]) {
        const RESULT_WIDTH: usize = 58;
        let step_width = records
            .iter()
            .map(|r| r.title.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let rows: Vec<(String, String, String)> = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (mark, text) = match &r.outcome {
                    Outcome::Held(text) => ("✓", text.as_str()),
                    Outcome::Failed(text) => ("✗", text.as_str()),
                };
                (
                    format!("{:>2}", i + 1),
                    format!("{mark} {}", truncate(text, RESULT_WIDTH - 2)),
                    duration(r.elapsed),
                )
            })
            .collect();
        let result_width = rows
            .iter()
            .map(|(_, result, _)| result.chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        let line = |a: &str, b: &str, c: &str, d: &str| {
            format!(
                "  {a:>2}  {b}{}  {c}{}  {d:>8}",
                " ".repeat(step_width.saturating_sub(b.chars().count())),
                " ".repeat(result_width.saturating_sub(c.chars().count())),
            )
        };
        println!();
        println!("{}", self.bold("Summary"));
        println!("{}", self.bold(&line("#", "Step", "Result", "Time")));
        println!(
            "{}",
            line(
                "--",
                &"-".repeat(step_width),
                &"-".repeat(result_width),
                "--------"
            )
        );
        for ((number, result, time), record) in rows.iter().zip(records) {
            let text = line(number, &record.title, result, time);
            match record.outcome {
                Outcome::Held(_) => println!("{text}"),
                Outcome::Failed(_) => println!("{}", self.paint("31", &text)),
            }
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Held(String),
    Failed(String),
}

/// One line of the summary.
#[derive(Debug, Clone)]
pub struct Record {
    pub title: String,
    pub outcome: Outcome,
    pub elapsed: Duration,
}

/// `812 ms`, `2.41 s`.
pub fn duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}
