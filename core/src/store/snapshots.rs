//! The active configuration snapshot and the pending settings, as JSON rows.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Serialize, de::DeserializeOwned};

use crate::error::{Error, Result};
use crate::time::now_ms;

/// Which snapshot: the one the engine runs on, or the settings waiting for a restart.
#[derive(Debug, Clone, Copy)]
pub enum Slot {
    Active,
    Pending,
}

impl Slot {
    fn as_str(self) -> &'static str {
        match self {
            Slot::Active => "active",
            Slot::Pending => "pending",
        }
    }
}

pub fn load<T: DeserializeOwned>(conn: &Connection, slot: Slot) -> Result<Option<(u64, T)>> {
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT version, json FROM config_snapshots WHERE slot = ?1",
            [slot.as_str()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    row.map(|(version, json)| {
        let value = serde_json::from_str(&json).map_err(|e| {
            Error::storage(format!(
                "{} configuration snapshot unreadable: {e}",
                slot.as_str()
            ))
        })?;
        Ok((u64::try_from(version).unwrap_or(0), value))
    })
    .transpose()
}

pub fn save<T: Serialize>(conn: &Connection, slot: Slot, version: u64, value: &T) -> Result<()> {
    let json = serde_json::to_string(value).map_err(Error::internal_from)?;
    conn.execute(
        "INSERT INTO config_snapshots (slot, version, json, written_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (slot) DO UPDATE SET version = excluded.version, json = excluded.json,
             written_at = excluded.written_at",
        params![
            slot.as_str(),
            i64::try_from(version).unwrap_or(i64::MAX),
            json,
            now_ms()
        ],
    )?;
    Ok(())
}

pub fn clear(conn: &Connection, slot: Slot) -> Result<()> {
    conn.execute(
        "DELETE FROM config_snapshots WHERE slot = ?1",
        [slot.as_str()],
    )?;
    Ok(())
}
