//! POS accounts that signed in on this device; at most one is current.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::Result;
use crate::model::account::PosAccount;
use crate::time::now_ms;

const COLUMNS: &str = "id, email, business_name";

fn from_row(row: &Row<'_>) -> rusqlite::Result<PosAccount> {
    Ok(PosAccount {
        account_id: row.get(0)?,
        email: row.get(1)?,
        business_name: row.get(2)?,
    })
}

pub fn current(conn: &Connection) -> Result<Option<PosAccount>> {
    let sql = format!("SELECT {COLUMNS} FROM pos_accounts WHERE is_current = 1");
    Ok(conn.query_row(&sql, [], from_row).optional()?)
}

/// Records `account` and makes it the current one.
pub fn make_current(conn: &Connection, account: &PosAccount) -> Result<()> {
    let now = now_ms();
    conn.execute(
        "UPDATE pos_accounts SET is_current = 0 WHERE is_current = 1",
        [],
    )?;
    conn.execute(
        "INSERT INTO pos_accounts (id, email, business_name, is_current, signed_in_at, updated_at)
         VALUES (?1, ?2, ?3, 1, ?4, ?4)
         ON CONFLICT (id) DO UPDATE SET email = excluded.email,
             business_name = excluded.business_name, is_current = 1, updated_at = excluded.updated_at",
        params![account.account_id, account.email, account.business_name, now],
    )?;
    Ok(())
}

pub fn clear_current(conn: &Connection) -> Result<()> {
    conn.execute(
        "UPDATE pos_accounts SET is_current = 0 WHERE is_current = 1",
        [],
    )?;
    Ok(())
}
