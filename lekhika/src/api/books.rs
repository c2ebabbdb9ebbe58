//! Books of a user, and the PostgreSQL schema (the host API's remaining
//! pieces; finding, exporting and writing a run's book is in `crate::book`).

use lekhika_core::store::BookRecord;

use crate::error::{LekhikaError, Result};
use crate::runtime::Lekhika;

impl Lekhika {
    /// A user's books, oldest first.
    pub async fn list_books(&self, user: &str) -> Result<Vec<BookRecord>> {
        Ok(self.stores.artifacts.list_books(user).await?)
    }

    /// Typeset a manuscript file (Markdown with front matter, or a book's
    /// JSON) into `formats` (`None`: all five) without a store; blocking
    /// (a novel's PDF takes about a second), so async hosts run it on a
    /// blocking thread.
    pub fn export_manuscript(
        path: &std::path::Path,
        formats: Option<&[String]>,
        options: Option<&serde_json::Value>,
    ) -> Result<Vec<lekhika_export::ExportedFile>> {
        let all: Vec<String> = crate::ALL_FORMATS.iter().map(|f| f.to_string()).collect();
        crate::manuscript::export_manuscript(path, formats.unwrap_or(&all), options)
    }

    /// [`Lekhika::export_manuscript`], then write the files (each
    /// atomically) into `out`; their paths.
    pub fn write_manuscript(
        path: &std::path::Path,
        formats: Option<&[String]>,
        out: &std::path::Path,
        options: Option<&serde_json::Value>,
    ) -> Result<Vec<std::path::PathBuf>> {
        let all: Vec<String> = crate::ALL_FORMATS.iter().map(|f| f.to_string()).collect();
        crate::manuscript::write_manuscript(path, formats.unwrap_or(&all), out, options)
    }

    /// Create or upgrade the PostgreSQL schema with an owner/admin URL;
    /// returns the migrations applied (none when it is up to date).
    pub async fn migrate(admin_url: &str) -> Result<Vec<String>> {
        #[cfg(feature = "postgres")]
        {
            lekhika_store::PgStore::migrate(admin_url)
                .await
                .map_err(|e| LekhikaError::store_open(admin_url, &e))
        }
        #[cfg(not(feature = "postgres"))]
        {
            let _ = admin_url;
            Err(LekhikaError::Config(
                "this build has no PostgreSQL support (cargo feature `postgres`)".into(),
            ))
        }
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact_url("postgres://app:secret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(super::redact_url("postgres://db/x"), "postgres://db/x");
    }
}
