//! Secrets of integrations (vtex-compat.md §3.1): the `X-VTEX-API-AppKey`/`AppToken` pair
//! offernet sends to an external VTEX seller, or, per offernet seller, to an external VTEX
//! marketplace. Never journaled (the journal is replayed and kept forever), never in a snapshot,
//! never answered: kept outside the journal, where removing one removes it.
//!
//! SQLite: a database file of its own, `secrets.db` beside the journal, made with mode 0600
//! (SQLite gives its `-wal` and `-shm` the file's mode). PostgreSQL: the schema
//! `offernet_secrets`, with every privilege revoked from `PUBLIC`, so only its owner (the
//! server's role) and superusers read it. Table `credentials`: (account, seller: `''` for an
//! external seller's own pair), app key, app token, when it was written. Table
//! `connection_keys`: the SHA-256 of each connection key of the path form of VTEX's inbound auth
//! (`/vtex/{s}/k/{key}/…`, vtex-compat.md §0 and §6 Q3): (seller, marketplace) → hash, when it
//! was made. The key itself is never stored: it is shown once, when it is made.

use std::path::Path;

use sqlx::sqlite::SqliteSynchronous;
use sqlx::Row;

use crate::journal::{JResult, JournalError};
use crate::side::{self, on, Conn};

/// The SQLite file of the secrets, in the data directory.
pub const SECRETS_FILE: &str = "secrets.db";
/// The PostgreSQL schema of the secrets.
pub const SECRETS_SCHEMA: &str = "offernet_secrets";

/// The schema `SECRETS_SCHEMA`, closed to `PUBLIC`, and this connection's path into it.
const PG_SETUP: &str = "CREATE SCHEMA IF NOT EXISTS offernet_secrets; \
     REVOKE ALL ON SCHEMA offernet_secrets FROM PUBLIC; SET search_path TO offernet_secrets";
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS credentials (account TEXT NOT NULL, seller TEXT NOT NULL, \
     app_key TEXT NOT NULL, app_token TEXT NOT NULL, updated_ms BIGINT NOT NULL, PRIMARY KEY (account, seller))";
const CREATE_KEYS: &str = "CREATE TABLE IF NOT EXISTS connection_keys (seller TEXT NOT NULL, \
     marketplace TEXT NOT NULL, key_sha256 TEXT NOT NULL, created_ms BIGINT NOT NULL, PRIMARY KEY (seller, marketplace))";
const PUT_KEY: &str = "INSERT INTO connection_keys (seller, marketplace, key_sha256, created_ms) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (seller, marketplace) DO UPDATE SET key_sha256 = excluded.key_sha256, created_ms = excluded.created_ms";
const SELLER_KEYS: &str = "SELECT marketplace, key_sha256 FROM connection_keys WHERE seller = $1 ORDER BY marketplace";
const REVOKE_KEY: &str = "DELETE FROM connection_keys WHERE seller = $1 AND marketplace = $2";
const PUT: &str =
    "INSERT INTO credentials (account, seller, app_key, app_token, updated_ms) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (account, seller) DO UPDATE SET app_key = excluded.app_key, app_token = excluded.app_token, \
     updated_ms = excluded.updated_ms";
const GET: &str = "SELECT app_key, app_token FROM credentials WHERE account = $1 AND seller = $2";
const LIST: &str = "SELECT seller, app_key, updated_ms FROM credentials WHERE account = $1 ORDER BY seller";
const FORGET: &str = "DELETE FROM credentials WHERE account = $1";

/// An app key and its token, as the external party issued them.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub app_key: String,
    pub app_token: String,
}

/// Never the token, whatever prints it.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("app_key", &self.app_key).field("app_token", &"<redacted>").finish()
    }
}

/// A stored pair as it may be shown: whose, the key, when; never the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    /// `None` for an external seller's own pair; the offernet seller's id at an external
    /// marketplace otherwise.
    pub seller: Option<String>,
    pub app_key: String,
    pub updated_ms: u64,
}

/// The secrets, on a connection of their own.
pub struct Secrets {
    conn: Conn,
}

impl Secrets {
    /// Opens (and makes, the first time) the secrets store: the schema `offernet_secrets` of
    /// `database` (as `--database`), else `secrets.db` in `data_dir`.
    pub async fn open(database: Option<&str>, data_dir: &Path) -> JResult<Secrets> {
        let conn = match database {
            Some(url) => {
                let mut c = side::pg(url, PG_SETUP).await?;
                sqlx::raw_sql(CREATE_TABLE).execute(&mut c).await?;
                sqlx::raw_sql(CREATE_KEYS).execute(&mut c).await?;
                Conn::Pg(c)
            }
            None => {
                let path = data_dir.join(SECRETS_FILE);
                crate::datadir::create_private_file(&path)
                    .map_err(|e| JournalError::Db(format!("creating {}: {e}", path.display())))?;
                let mut c = side::sqlite(&path, SqliteSynchronous::Full).await?;
                sqlx::raw_sql(CREATE_TABLE).execute(&mut c).await?;
                sqlx::raw_sql(CREATE_KEYS).execute(&mut c).await?;
                Conn::Sqlite(c)
            }
        };
        Ok(Secrets { conn })
    }

    /// Stores (or replaces) `account`'s pair, for `seller` when given, written at `at_ms`.
    pub async fn put(&mut self, account: &str, seller: Option<&str>, c: &Credentials, at_ms: u64) -> JResult<()> {
        let seller = seller.unwrap_or("");
        on!(self, conn => {
            sqlx::query(PUT)
                .bind(account)
                .bind(seller)
                .bind(c.app_key.as_str())
                .bind(c.app_token.as_str())
                .bind(at_ms as i64)
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }

    /// `account`'s pair (for `seller` when given): what the outbound worker sends.
    pub async fn get(&mut self, account: &str, seller: Option<&str>) -> JResult<Option<Credentials>> {
        let seller = seller.unwrap_or("");
        let row = on!(self, conn => sqlx::query(GET).bind(account).bind(seller).fetch_optional(&mut *conn).await?
            .map(|r| Ok::<_, sqlx::Error>(Credentials { app_key: r.try_get(0)?, app_token: r.try_get(1)? }))
            .transpose()?);
        Ok(row)
    }

    /// `account`'s stored keys, by seller (its own pair first), without their tokens.
    pub async fn keys(&mut self, account: &str) -> JResult<Vec<StoredKey>> {
        let rows = on!(self, conn => sqlx::query(LIST).bind(account).fetch_all(&mut *conn).await?
            .iter()
            .map(|r| {
                let seller: String = r.try_get(0)?;
                Ok(StoredKey {
                    seller: (!seller.is_empty()).then_some(seller),
                    app_key: r.try_get(1)?,
                    updated_ms: r.try_get::<i64, _>(2)? as u64,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?);
        Ok(rows)
    }

    /// Stores the SHA-256 (hex) of the connection key of `seller`'s connection to marketplace
    /// `marketplace`, replacing the one before (a rotation: the old key stops working at once).
    pub async fn put_connection_key(
        &mut self,
        (seller, marketplace): (&str, &str),
        sha256: &str,
        at_ms: u64,
    ) -> JResult<()> {
        on!(self, conn => {
            sqlx::query(PUT_KEY).bind(seller).bind(marketplace).bind(sha256).bind(at_ms as i64).execute(&mut *conn).await?;
        });
        Ok(())
    }

    /// Revokes the connection key of `seller`'s connection to `marketplace`; whether there was one.
    pub async fn revoke_connection_key(&mut self, seller: &str, marketplace: &str) -> JResult<bool> {
        let n = on!(self, conn => sqlx::query(REVOKE_KEY).bind(seller).bind(marketplace).execute(&mut *conn).await?
            .rows_affected());
        Ok(n > 0)
    }

    /// The marketplace whose connection to `seller` has the key of SHA-256 `sha256` (hex), if
    /// any. Every stored hash of the seller is compared, each in constant time, so the answer's
    /// timing tells nothing of how close a wrong key came.
    pub async fn connection_of_key(&mut self, seller: &str, sha256: &str) -> JResult<Option<String>> {
        let rows: Vec<(String, String)> = on!(self, conn => sqlx::query(SELLER_KEYS).bind(seller)
            .fetch_all(&mut *conn).await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?);
        let mut found = None;
        for (marketplace, stored) in rows {
            if constant_time_eq(stored.as_bytes(), sha256.as_bytes()) {
                found = Some(marketplace);
            }
        }
        Ok(found)
    }

    /// Removes every pair of `account` (its integration ended).
    pub async fn forget(&mut self, account: &str) -> JResult<()> {
        on!(self, conn => {
            sqlx::query(FORGET).bind(account).execute(&mut *conn).await?;
        });
        Ok(())
    }
}

/// Equal in time independent of where the inputs differ (lengths are not secret here: every
/// compared value is a fixed-length hex digest).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pairs_are_kept_replaced_listed_and_forgotten_in_a_private_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("offernet-secrets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut s = Secrets::open(None, &dir).await.unwrap();
        let mode = std::fs::metadata(dir.join(SECRETS_FILE)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let pair = |k: &str, t: &str| Credentials { app_key: k.into(), app_token: t.into() };
        s.put("e", None, &pair("vtexappkey-e-1", "TOKEN1"), 5).await.unwrap();
        s.put("v", Some("s1"), &pair("vtexappkey-v-s1", "TOKEN2"), 6).await.unwrap();
        s.put("e", None, &pair("vtexappkey-e-2", "TOKEN3"), 7).await.unwrap();
        assert_eq!(s.get("e", None).await.unwrap(), Some(pair("vtexappkey-e-2", "TOKEN3")));
        assert_eq!(s.get("v", Some("s1")).await.unwrap(), Some(pair("vtexappkey-v-s1", "TOKEN2")));
        assert_eq!(s.get("v", None).await.unwrap(), None);
        let keys = s.keys("v").await.unwrap();
        assert_eq!(
            keys,
            vec![StoredKey { seller: Some("s1".into()), app_key: "vtexappkey-v-s1".into(), updated_ms: 6 }]
        );
        assert!(!format!("{:?}", pair("k", "SECRET")).contains("SECRET"), "Debug never shows a token");
        drop(s);
        let mut s = Secrets::open(None, &dir).await.unwrap();
        assert_eq!(s.keys("e").await.unwrap()[0].app_key, "vtexappkey-e-2", "kept across opens");
        s.forget("e").await.unwrap();
        assert_eq!(s.get("e", None).await.unwrap(), None);
        // Connection keys: by hash, per (seller, marketplace); a rotation replaces, a revocation
        // removes, and another seller's hash opens nothing.
        s.put_connection_key(("s1", "v"), &"a".repeat(64), 8).await.unwrap();
        s.put_connection_key(("s1", "w"), &"b".repeat(64), 8).await.unwrap();
        assert_eq!(s.connection_of_key("s1", &"a".repeat(64)).await.unwrap().as_deref(), Some("v"));
        assert_eq!(s.connection_of_key("s2", &"a".repeat(64)).await.unwrap(), None);
        s.put_connection_key(("s1", "v"), &"c".repeat(64), 9).await.unwrap();
        assert_eq!(s.connection_of_key("s1", &"a".repeat(64)).await.unwrap(), None, "rotated");
        assert_eq!(s.connection_of_key("s1", &"c".repeat(64)).await.unwrap().as_deref(), Some("v"));
        assert!(s.revoke_connection_key("s1", "v").await.unwrap());
        assert!(!s.revoke_connection_key("s1", "v").await.unwrap());
        assert_eq!(s.connection_of_key("s1", &"c".repeat(64)).await.unwrap(), None, "revoked");
        assert_eq!(s.connection_of_key("s1", &"b".repeat(64)).await.unwrap().as_deref(), Some("w"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
