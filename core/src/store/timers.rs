//! The timers the store keeps as wall-clock times, moved together when the wall clock is set
//! (design D29): the outbox's next attempts, the quarantine's next retries and the start of its
//! retry span, an event's failure span, the read-back's and the names' last reads, and the last
//! successful cycle (which says whether the till was long offline). Each keeps the interval it
//! was given; what only records when something happened (an order's reception) is left as is.

use rusqlite::{Transaction, params};

use crate::error::Result;

/// Every timer column, as `table.column`, with the rows that still count on it.
const TIMERS: [(&str, &str, &str); 8] = [
    ("outbox", "next_attempt_at", "finished_at IS NULL"),
    ("quarantine", "next_retry_at", "next_retry_at IS NOT NULL"),
    ("quarantine", "quarantined_at", "1"),
    ("quarantine", "first_failed_at", "1"),
    ("event_failures", "first_failed_at", "1"),
    (
        "connection_reads",
        "read_back_at",
        "read_back_at IS NOT NULL",
    ),
    (
        "connection_reads",
        "names_read_at",
        "names_read_at IS NOT NULL",
    ),
    (
        "connections",
        "last_succeeded_at",
        "last_succeeded_at IS NOT NULL",
    ),
];

/// Moves every timer by `set_by_ms`, how far the wall clock was just set (forward positive).
pub fn follow_wall_clock(tx: &Transaction<'_>, set_by_ms: i64) -> Result<()> {
    for (table, column, still_used) in TIMERS {
        tx.execute(
            &format!("UPDATE {table} SET {column} = {column} + ?1 WHERE {still_used}"),
            params![set_by_ms],
        )?;
    }
    Ok(())
}
