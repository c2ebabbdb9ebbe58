//! `ArtifactStore` on PostgreSQL.

use async_trait::async_trait;
use lekhika_core::store::{
    Artifact, ArtifactMeta, ArtifactStore, BookRecord, StoreError, StoreResult,
};

use super::executions::{guard, RowLock};
use super::{begin, pg_err, PgStore};

fn count(v: u64) -> StoreResult<i64> {
    i64::try_from(v).map_err(|_| StoreError::Forbidden(format!("count {v} out of range")))
}

#[async_trait]
impl ArtifactStore for PgStore {
    async fn put_artifact(
        &self,
        owner: &str,
        execution_id: &str,
        artifact: &Artifact,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        guard(&tx, execution_id, None, RowLock::Share).await?;
        tx.execute(
            "INSERT INTO artifacts (user_id, execution_id, name, mime, bytes) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (execution_id, name) DO UPDATE SET mime = excluded.mime, bytes = excluded.bytes",
            &[&owner, &execution_id, &artifact.name, &artifact.mime, &artifact.bytes],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }

    async fn get_artifact(
        &self,
        owner: &str,
        execution_id: &str,
        name: &str,
    ) -> StoreResult<Artifact> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        guard(&tx, execution_id, None, RowLock::None).await?;
        let row = tx
            .query_opt(
                "SELECT mime, bytes FROM artifacts WHERE execution_id = $1 AND name = $2",
                &[&execution_id, &name],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| StoreError::not_found(format!("artifact {name}")))?;
        tx.commit().await.map_err(pg_err)?;
        Ok(Artifact {
            name: name.to_string(),
            mime: row.get(0),
            bytes: row.get(1),
        })
    }

    async fn list_artifacts(
        &self,
        owner: &str,
        execution_id: &str,
    ) -> StoreResult<Vec<ArtifactMeta>> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        guard(&tx, execution_id, None, RowLock::None).await?;
        let rows = tx
            .query(
                "SELECT name, mime, octet_length(bytes)::bigint FROM artifacts WHERE execution_id = $1 ORDER BY name",
                &[&execution_id],
            )
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(rows
            .iter()
            .map(|r| ArtifactMeta {
                name: r.get(0),
                mime: r.get(1),
                size: u64::try_from(r.get::<_, i64>(2)).unwrap_or(0),
            })
            .collect())
    }

    async fn put_book(&self, book: &BookRecord) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, &book.owner).await?;
        guard(&tx, &book.execution_id, None, RowLock::Share).await?;
        // Another tenant's book id: RLS makes the upsert fail (Forbidden), never overwrite.
        tx.execute(
            "INSERT INTO books (id, user_id, execution_id, title, author, output_formats, word_count, \
             character_count, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET execution_id = excluded.execution_id, title = excluded.title, \
             author = excluded.author, output_formats = excluded.output_formats, word_count = excluded.word_count, \
             character_count = excluded.character_count, created_at_ms = excluded.created_at_ms",
            &[
                &book.id,
                &book.owner,
                &book.execution_id,
                &book.title,
                &book.author,
                &book.formats,
                &count(book.word_count)?,
                &count(book.character_count)?,
                &book.created_at_ms,
            ],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }

    async fn list_books(&self, owner: &str) -> StoreResult<Vec<BookRecord>> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        let rows = tx
            .query(
                "SELECT id, user_id, execution_id, title, author, output_formats, word_count, character_count, \
                 created_at_ms FROM books ORDER BY created_at_ms, id",
                &[],
            )
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(rows.iter().map(book_from_row).collect())
    }
}

pub(super) fn book_from_row(r: &tokio_postgres::Row) -> BookRecord {
    BookRecord {
        id: r.get(0),
        owner: r.get(1),
        execution_id: r.get(2),
        title: r.get(3),
        author: r.get(4),
        formats: r.get(5),
        word_count: u64::try_from(r.get::<_, i64>(6)).unwrap_or(0),
        character_count: u64::try_from(r.get::<_, i64>(7)).unwrap_or(0),
        created_at_ms: r.get(8),
    }
}
