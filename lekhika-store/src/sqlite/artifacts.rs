//! `ArtifactStore` on SQLite: book files as blobs, book records.

use async_trait::async_trait;
use lekhika_core::store::{
    Artifact, ArtifactMeta, ArtifactStore, BookRecord, StoreError, StoreResult,
};
use rusqlite::{params, OptionalExtension};

use super::executions::{guard, write};
use super::{db_err, json_err, SqliteStore};

#[async_trait]
impl ArtifactStore for SqliteStore {
    async fn put_artifact(
        &self,
        owner: &str,
        execution_id: &str,
        artifact: &Artifact,
    ) -> StoreResult<()> {
        let (owner, id, a) = (
            owner.to_string(),
            execution_id.to_string(),
            artifact.clone(),
        );
        self.call(move |c| {
            write(c, |tx| {
                guard(tx, &owner, &id, None)?;
                tx.prepare_cached(
                    "INSERT INTO artifacts (execution_id, name, mime, bytes) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT(execution_id, name) DO UPDATE SET mime = excluded.mime, bytes = excluded.bytes",
                )
                .map_err(db_err)?
                .execute(params![id, a.name, a.mime, a.bytes])
                .map_err(db_err)?;
                Ok(())
            })
        })
        .await
    }

    async fn get_artifact(
        &self,
        owner: &str,
        execution_id: &str,
        name: &str,
    ) -> StoreResult<Artifact> {
        let (owner, id, name) = (
            owner.to_string(),
            execution_id.to_string(),
            name.to_string(),
        );
        self.call(move |c| {
            let tx = c.transaction().map_err(db_err)?;
            guard(&tx, &owner, &id, None)?;
            let found = tx
                .prepare_cached(
                    "SELECT mime, bytes FROM artifacts WHERE execution_id = ?1 AND name = ?2",
                )
                .map_err(db_err)?
                .query_row([&id, &name], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(db_err)?;
            match found {
                Some((mime, bytes)) => Ok(Artifact { name, mime, bytes }),
                None => Err(StoreError::not_found(format!("artifact {name}"))),
            }
        })
        .await
    }

    async fn list_artifacts(
        &self,
        owner: &str,
        execution_id: &str,
    ) -> StoreResult<Vec<ArtifactMeta>> {
        let (owner, id) = (owner.to_string(), execution_id.to_string());
        self.call(move |c| {
            let tx = c.transaction().map_err(db_err)?;
            guard(&tx, &owner, &id, None)?;
            let mut stmt = tx
                .prepare_cached(
                    "SELECT name, mime, length(bytes) FROM artifacts WHERE execution_id = ?1 ORDER BY name",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map([&id], |r| {
                    Ok(ArtifactMeta {
                        name: r.get(0)?,
                        mime: r.get(1)?,
                        size: r.get::<_, i64>(2)? as u64,
                    })
                })
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err);
            rows
        })
        .await
    }

    async fn put_book(&self, book: &BookRecord) -> StoreResult<()> {
        let b = book.clone();
        let formats = serde_json::to_string(&b.formats).map_err(json_err)?;
        self.call(move |c| {
            write(c, |tx| {
                guard(tx, &b.owner, &b.execution_id, None)?;
                // Another tenant's book id is refused, never overwritten.
                let n = tx
                    .prepare_cached(
                        "INSERT INTO books (id, owner, execution_id, title, author, word_count, character_count, \
                         formats, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                         ON CONFLICT(id) DO UPDATE SET execution_id = excluded.execution_id, \
                         title = excluded.title, author = excluded.author, word_count = excluded.word_count, \
                         character_count = excluded.character_count, formats = excluded.formats, \
                         created_at_ms = excluded.created_at_ms WHERE books.owner = excluded.owner",
                    )
                    .map_err(db_err)?
                    .execute(params![
                        b.id,
                        b.owner,
                        b.execution_id,
                        b.title,
                        b.author,
                        b.word_count as i64,
                        b.character_count as i64,
                        formats,
                        b.created_at_ms
                    ])
                    .map_err(db_err)?;
                if n == 0 {
                    return Err(StoreError::Conflict(format!("book id {} is taken", b.id)));
                }
                Ok(())
            })
        })
        .await
    }

    async fn list_books(&self, owner: &str) -> StoreResult<Vec<BookRecord>> {
        let owner = owner.to_string();
        self.call(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, owner, execution_id, title, author, word_count, character_count, formats, \
                     created_at_ms FROM books WHERE owner = ?1 ORDER BY created_at_ms, id",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map([&owner], |r| {
                    Ok((
                        BookRecord {
                            id: r.get(0)?,
                            owner: r.get(1)?,
                            execution_id: r.get(2)?,
                            title: r.get(3)?,
                            author: r.get(4)?,
                            word_count: r.get::<_, i64>(5)? as u64,
                            character_count: r.get::<_, i64>(6)? as u64,
                            formats: Vec::new(),
                            created_at_ms: r.get(8)?,
                        },
                        r.get::<_, String>(7)?,
                    ))
                })
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            rows.into_iter()
                .map(|(mut b, formats)| {
                    b.formats = serde_json::from_str(&formats).map_err(json_err)?;
                    Ok(b)
                })
                .collect()
        })
        .await
    }
}
