//! Platform administrator access (the seed's SuperAdmin): read-only, across
//! tenants, and only through this explicitly obtained handle.
//!
//! Each call runs a READ ONLY transaction with `lekhika.admin = on` (set
//! locally), which the `platform_admin_read` policies honour for SELECT only.

use lekhika_core::store::{BookRecord, ExecutionRecord, StoreResult};
use lekhika_core::wallet::{LedgerEntry, Wallet};

use super::executions::{execution_from_row, SELECT_EXECUTION};
use super::wallet::ledger_row;
use super::{pg_err, PgStore};

/// Cross-tenant reads; get one with [`PgStore::as_admin`].
pub struct PgAdmin<'a> {
    store: &'a PgStore,
}

impl<'a> PgAdmin<'a> {
    pub(super) fn new(store: &'a PgStore) -> Self {
        Self { store }
    }

    async fn rows(&self, sql: &str) -> StoreResult<Vec<tokio_postgres::Row>> {
        let mut c = self.store.client().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        tx.batch_execute(
            "SET TRANSACTION READ ONLY; SELECT set_config('lekhika.admin', 'on', true)",
        )
        .await
        .map_err(pg_err)?;
        let rows = tx.query(sql, &[]).await.map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(rows)
    }

    /// Every tenant's executions, oldest first.
    pub async fn list_all_executions(&self) -> StoreResult<Vec<ExecutionRecord>> {
        let rows = self
            .rows(&format!("{SELECT_EXECUTION} ORDER BY created_at_ms, id"))
            .await?;
        rows.iter().map(execution_from_row).collect()
    }

    /// Every tenant's books, oldest first.
    pub async fn list_all_books(&self) -> StoreResult<Vec<BookRecord>> {
        let rows = self
            .rows(
                "SELECT id, user_id, execution_id, title, author, output_formats, word_count, character_count, \
                 created_at_ms FROM books ORDER BY created_at_ms, id",
            )
            .await?;
        Ok(rows.iter().map(super::artifacts::book_from_row).collect())
    }

    /// Every wallet, by user id.
    pub async fn list_all_wallets(&self) -> StoreResult<Vec<Wallet>> {
        let rows = self
            .rows(
                "SELECT user_id, balance, reserved, total_earned, total_spent, level, current_period \
                 FROM user_token_wallets ORDER BY user_id",
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Wallet {
                user_id: r.get(0),
                balance: r.get(1),
                reserved: r.get(2),
                total_earned: r.get(3),
                total_spent: r.get(4),
                level: r.get(5),
                current_period: r.get(6),
            })
            .collect())
    }

    /// The whole ledger, oldest first.
    pub async fn list_all_ledger(&self) -> StoreResult<Vec<LedgerEntry>> {
        let rows = self
            .rows(
                "SELECT user_id, key, kind, amount, execution_id, node_id, note, created_at_ms \
                 FROM ledger_entries ORDER BY seq",
            )
            .await?;
        rows.iter().map(ledger_row).collect()
    }
}
