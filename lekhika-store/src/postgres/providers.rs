//! Provider API keys (`ai_providers`), sealed with AES-256-GCM by the store.
//!
//! The 32-byte key comes from the host ([`super::PgOptions::secret_key`]) and
//! never reaches the database. Each ciphertext is bound to its owner and
//! provider name (associated data), so rows cannot be swapped. Listing
//! returns only a redacted hint; [`PgStore::provider_api_key`] is the one
//! explicit call that decrypts, for the worker about to call the provider.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use lekhika_core::store::{StoreError, StoreResult};
use serde::{Deserialize, Serialize};

use super::{begin, pg_err, PgStore};

const NONCE_LEN: usize = 12;

/// A provider key as listed: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderKeyInfo {
    pub name: String,
    pub is_active: bool,
    /// Redacted form, e.g. `…9f3a` (last four characters of a long key).
    pub key_hint: String,
}

fn hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() >= 12 {
        let tail: String = chars.iter().skip(chars.len() - 4).collect();
        format!("…{tail}")
    } else {
        "…".to_string()
    }
}

fn aad(owner: &str, name: &str) -> Vec<u8> {
    format!("lekhika/ai_providers/{owner}/{name}").into_bytes()
}

impl PgStore {
    fn cipher(&self) -> StoreResult<Aes256Gcm> {
        let key = self.secret_key.ok_or_else(|| {
            StoreError::Forbidden("no secret key configured for provider API keys".into())
        })?;
        Aes256Gcm::new_from_slice(&key)
            .map_err(|_| StoreError::backend("invalid AES-256 key length"))
    }

    /// Store (or replace) `owner`'s API key for provider `name`, encrypted.
    pub async fn put_provider_key(
        &self,
        owner: &str,
        name: &str,
        api_key: &str,
        is_active: bool,
    ) -> StoreResult<()> {
        let cipher = self.cipher()?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: api_key.as_bytes(),
                    aad: &aad(owner, name),
                },
            )
            .map_err(|_| StoreError::backend("encrypting the API key failed"))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        tx.execute(
            "INSERT INTO ai_providers (id, user_id, name, api_key_ciphertext, api_key_hint, is_active) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, name) DO UPDATE SET \
             api_key_ciphertext = excluded.api_key_ciphertext, api_key_hint = excluded.api_key_hint, \
             is_active = excluded.is_active",
            &[&lekhika_core::util::new_id(), &owner, &name, &blob, &hint(api_key), &is_active],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }

    /// `owner`'s provider keys, redacted, ordered by name.
    pub async fn list_providers(&self, owner: &str) -> StoreResult<Vec<ProviderKeyInfo>> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        let rows = tx
            .query(
                "SELECT name, is_active, api_key_hint FROM ai_providers ORDER BY name",
                &[],
            )
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(rows
            .iter()
            .map(|r| ProviderKeyInfo {
                name: r.get(0),
                is_active: r.get(1),
                key_hint: r.get(2),
            })
            .collect())
    }

    /// Decrypt `owner`'s key for provider `name` (for the worker making the call).
    pub async fn provider_api_key(&self, owner: &str, name: &str) -> StoreResult<String> {
        let cipher = self.cipher()?;
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        let row = tx
            .query_opt(
                "SELECT api_key_ciphertext FROM ai_providers WHERE name = $1",
                &[&name],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| StoreError::not_found(format!("provider key {name}")))?;
        tx.commit().await.map_err(pg_err)?;
        let blob: Vec<u8> = row.get(0);
        if blob.len() <= NONCE_LEN {
            return Err(StoreError::backend(
                "stored API key ciphertext is truncated",
            ));
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let plain = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad(owner, name),
                },
            )
            .map_err(|_| {
                StoreError::backend("API key does not decrypt: wrong secret key or tampered row")
            })?;
        String::from_utf8(plain).map_err(|_| StoreError::backend("decrypted API key is not UTF-8"))
    }
}
