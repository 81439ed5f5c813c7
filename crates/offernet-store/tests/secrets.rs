//! The secrets store on PostgreSQL (`OFFERNET_TEST_POSTGRES_URL`; skipped without it, as the
//! journal's PostgreSQL tests are): pairs live in the schema `offernet_secrets`, closed to
//! `PUBLIC`, outside the journal's schema. The SQLite form is tested beside the code.

mod common;

use offernet_store::{Credentials, Secrets};
use sqlx::{AssertSqlSafe, Connection, Row};

#[tokio::test]
async fn pairs_live_in_a_schema_of_their_own_closed_to_public() {
    let Some(base) = common::postgres_base() else { return };
    let db = format!("offernet_vtexcore_secrets_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&base).await.expect("PostgreSQL reachable");
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}"))).execute(&mut admin).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(&mut admin).await.unwrap();
    let url = common::with_database(&base, &db);
    let dir = std::env::temp_dir();
    let mut s = Secrets::open(Some(&url), &dir).await.unwrap();
    let pair = Credentials { app_key: "vtexappkey-e-ABCDEF".into(), app_token: "TOKEN".into() };
    s.put("e", None, &pair, 1).await.unwrap();
    s.put("v", Some("s1"), &pair, 2).await.unwrap();
    assert_eq!(s.get("e", None).await.unwrap(), Some(pair.clone()));
    assert_eq!(s.keys("v").await.unwrap()[0].seller.as_deref(), Some("s1"));
    drop(s);
    // Opened again (the schema exists), the pairs are there; then forgotten.
    let mut s = Secrets::open(Some(&url), &dir).await.unwrap();
    assert_eq!(s.get("v", Some("s1")).await.unwrap(), Some(pair));
    s.forget("e").await.unwrap();
    assert_eq!(s.get("e", None).await.unwrap(), None);
    drop(s);
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    let q = "SELECT has_schema_privilege('public', 'offernet_secrets', 'USAGE'), \
             (SELECT count(*) FROM information_schema.tables WHERE table_schema = 'offernet_secrets')";
    let row = sqlx::query(q).fetch_one(&mut c).await.unwrap();
    assert!(!row.get::<bool, _>(0), "PUBLIC has no use of the schema");
    assert_eq!(row.get::<i64, _>(1), 2, "two tables: the pairs and the connection keys");
    c.close().await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE {db} WITH (FORCE)"))).execute(&mut admin).await.unwrap();
}
