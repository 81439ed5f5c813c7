//! Named account tokens and account names through the real binary: create, list, read and
//! revoke by the account and by the operator, another account refused, secrets never listed
//! nor logged, the per-account limit, rotation across a graceful restart and a crash, tokens
//! of the old `<account>.<secret>` form from an existing journal, and `PATCH` of the name.

mod common;

use std::process::Command;

use common::{create, temp_dir, Server, ADMIN, BIN};
use serde_json::{json, Value};

fn post_token(s: &Server, account: &str, auth: &str, name: &str) -> Value {
    let (st, v) =
        s.req("POST", &format!("/v1/accounts/{account}/tokens"), Some(auth), Some(&json!({"name": name}).to_string()));
    assert_eq!(st, 201, "{v}");
    v
}

/// The status of a read of `account` with `token`.
fn status_with(s: &Server, account: &str, token: &str) -> u16 {
    s.req("GET", &format!("/v1/accounts/{account}"), Some(token), None).0
}

/// The secret part of a token (`<account>.<id>.<secret>`).
fn secret(token: &str) -> &str {
    token.rsplit('.').next().unwrap()
}

// Long on purpose: one account's tokens through their whole life, as one story.
#[test]
fn tokens_are_created_listed_read_and_revoked() {
    let dir = temp_dir("tokens-crud");
    let s = Server::start(&dir, &[]);
    let t0 = create(&s, "shop");
    let other = create(&s, "other");
    assert!(t0.starts_with("shop.initial."), "{t0}");

    // The account and the operator both create tokens; the secret is shown once.
    let ci = post_token(&s, "shop", &t0, "ci");
    let id = ci["id"].as_str().unwrap().to_string();
    let token = ci["token"].as_str().unwrap().to_string();
    assert_eq!(ci["name"], "ci");
    assert!(token.starts_with(&format!("shop.{id}.")) && secret(&token).len() == 64, "{ci}");
    assert!(ci["created_ms"].as_u64().unwrap() > 1_700_000_000_000, "{ci}");
    let backend = post_token(&s, "shop", ADMIN, "backend");
    assert_eq!(status_with(&s, "shop", &token), 200);
    assert_eq!(status_with(&s, "shop", backend["token"].as_str().unwrap()), 200);

    // Listed sorted by id, without secrets; one by id; paged like every list.
    let (st, list) = s.req("GET", "/v1/accounts/shop/tokens", Some(&token), None);
    assert_eq!((st, list["total"].as_u64()), (200, Some(3)), "{list}");
    let ids: Vec<&str> = list["tokens"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert!(ids.contains(&"initial") && ids.contains(&id.as_str()));
    let text = list.to_string();
    for t in [&t0, &token, backend["token"].as_str().unwrap()] {
        assert!(!text.contains(secret(t)), "a secret in the list: {text}");
    }
    assert!(list["tokens"].as_array().unwrap().iter().all(|t| t.get("token").is_none()));
    let (_, page) = s.req("GET", "/v1/accounts/shop/tokens?limit=1&offset=1", Some(ADMIN), None);
    assert_eq!((page["tokens"].as_array().unwrap().len(), page["next_offset"].as_u64()), (1, Some(2)), "{page}");
    let (st, one) = s.req("GET", &format!("/v1/accounts/shop/tokens/{id}"), Some(&t0), None);
    assert_eq!((st, one), (200, json!({"id": id, "name": "ci", "created_ms": ci["created_ms"]})));

    // Another account may do none of it, nor use a token on another account's path.
    let body = json!({"name": "x"}).to_string();
    assert_eq!(s.req("GET", "/v1/accounts/shop/tokens", Some(&other), None).0, 403);
    assert_eq!(s.req("POST", "/v1/accounts/shop/tokens", Some(&other), Some(&body)).0, 403);
    assert_eq!(s.req("DELETE", &format!("/v1/accounts/shop/tokens/{id}"), Some(&other), None).0, 403);
    assert_eq!(status_with(&s, "other", &token), 403);
    // A token's secret under another id is not that token.
    assert_eq!(status_with(&s, "shop", &format!("shop.initial.{}", secret(&token))), 401);

    // Not found names its field.
    let (st, v) = s.req("GET", "/v1/accounts/shop/tokens/nope", Some(&t0), None);
    assert_eq!((st, v["error"]["field"].as_str()), (404, Some("id")), "{v}");
    let (st, v) = s.req("GET", "/v1/accounts/ghost/tokens", Some(ADMIN), None);
    assert_eq!((st, v["error"]["field"].as_str()), (404, Some("a")), "{v}");
    let (st, v) = s.req("POST", "/v1/accounts/ghost/tokens", Some(ADMIN), Some(&body));
    assert_eq!(st, 404, "{v}");

    // Bad bodies: 400 naming the field, nothing created.
    let long = "n".repeat(101);
    for (bad, field) in [
        (json!({}), "name"),
        (json!({"name": " "}), "name"),
        (json!({"name": "a\nb"}), "name"),
        (json!({"name": long}), "name"),
        (json!({"name": 7}), "name"),
        (json!({"name": "x", "id": "mine"}), "id"),
    ] {
        let (st, v) = s.req("POST", "/v1/accounts/shop/tokens", Some(&t0), Some(&bad.to_string()));
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some(field)), "{bad}: {v}");
    }
    assert_eq!(s.req("GET", "/v1/accounts/shop/tokens", Some(&t0), None).1["total"], 3);

    // Revoked: refused at once; revoking again is a 404; the other tokens still work. An
    // account may revoke the token it calls with.
    assert_eq!(s.req("DELETE", &format!("/v1/accounts/shop/tokens/{id}"), Some(&t0), None).0, 204);
    let (st, v) = s.req("GET", "/v1/accounts/shop", Some(&token), None);
    assert_eq!((st, v["error"]["code"].as_str()), (401, Some("unauthorized")), "{v}");
    let (st, v) = s.req("DELETE", &format!("/v1/accounts/shop/tokens/{id}"), Some(&t0), None);
    assert_eq!((st, v["error"]["field"].as_str()), (404, Some("id")), "{v}");
    assert_eq!(s.req("DELETE", "/v1/accounts/shop/tokens/initial", Some(&t0), None).0, 204);
    assert_eq!(status_with(&s, "shop", &t0), 401);
    assert_eq!(status_with(&s, "shop", backend["token"].as_str().unwrap()), 200);
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_account_holds_at_most_100_tokens() {
    let dir = temp_dir("tokens-limit");
    let s = Server::start(&dir, &[]);
    let t0 = create(&s, "shop");
    for i in 1..100 {
        post_token(&s, "shop", ADMIN, &format!("client {i}"));
    }
    let (st, v) = s.req("POST", "/v1/accounts/shop/tokens", Some(&t0), Some(r#"{"name":"one too many"}"#));
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("conflict")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("100 tokens"), "{v}");
    let (_, list) = s.req("GET", "/v1/accounts/shop/tokens?limit=1000", Some(&t0), None);
    assert_eq!((list["total"].as_u64(), list["tokens"].as_array().unwrap().len()), (Some(100), 100));
    let first = list["tokens"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(s.req("DELETE", &format!("/v1/accounts/shop/tokens/{first}"), Some(ADMIN), None).0, 204);
    post_token(&s, "shop", &t0, "room again");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Rotation without downtime: old and new both accepted, then the old refused after its
/// DELETE and the new still accepted, across a graceful restart (from the shutdown snapshot)
/// and a crash (from the journal). The account's new name survives too.
#[test]
fn rotation_survives_restarts() {
    let dir = temp_dir("tokens-rotation");
    let s = Server::start(&dir, &[]);
    let old = create(&s, "shop");
    let new = post_token(&s, "shop", &old, "rotated")["token"].as_str().unwrap().to_string();
    assert_eq!((status_with(&s, "shop", &old), status_with(&s, "shop", &new)), (200, 200));
    let (st, v) = s.req("PATCH", "/v1/accounts/shop", Some(&new), Some(r#"{"name":"Shop 2"}"#));
    assert_eq!((st, v["name"].as_str()), (200, Some("Shop 2")), "{v}");
    s.stop();

    let s = Server::start(&dir, &[]);
    assert_eq!((status_with(&s, "shop", &old), status_with(&s, "shop", &new)), (200, 200), "both after a restart");
    let old_id = old.split('.').nth(1).unwrap();
    assert_eq!(s.req("DELETE", &format!("/v1/accounts/shop/tokens/{old_id}"), Some(&new), None).0, 204);
    assert_eq!((status_with(&s, "shop", &old), status_with(&s, "shop", &new)), (401, 200));
    s.kill9();

    let s = Server::start(&dir, &[]);
    assert_eq!((status_with(&s, "shop", &old), status_with(&s, "shop", &new)), (401, 200), "after a crash");
    assert_eq!(s.req("GET", "/v1/accounts/shop", Some(&new), None).1["name"], "Shop 2");
    s.stop();
    let s = Server::start(&dir, &[]);
    assert_eq!((status_with(&s, "shop", &old), status_with(&s, "shop", &new)), (401, 200), "from the snapshot");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_account_is_renamed_by_itself_or_the_operator() {
    let dir = temp_dir("tokens-patch");
    let s = Server::start(&dir, &[]);
    let t = create(&s, "shop");
    let other = create(&s, "other");
    let patch = |token: &str, body: Value| s.req("PATCH", "/v1/accounts/shop", Some(token), Some(&body.to_string()));
    let (st, v) = patch(&t, json!({"name": "Acme Store"}));
    assert_eq!((st, v), (200, json!({"id": "shop", "name": "Acme Store", "currency": "BRL"})));
    let (st, v) = patch(ADMIN, json!({"name": "Acme"}));
    assert_eq!((st, v["name"].as_str()), (200, Some("Acme")));
    assert_eq!(patch(&other, json!({"name": "Mine"})).0, 403);
    let (st, v) = patch(&t, json!({}));
    assert_eq!((st, v["name"].as_str()), (200, Some("Acme")), "an empty PATCH changes nothing");
    for (bad, field) in [
        (json!({"name": null}), "name"),
        (json!({"name": "\u{202E}x"}), "name"),
        (json!({"id": "shop2"}), "id"),
        (json!({"currency": "USD"}), "currency"),
    ] {
        let (st, v) = patch(&t, bad.clone());
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some(field)), "{bad}: {v}");
    }
    let (st, v) = s.req("PATCH", "/v1/accounts/ghost", Some(ADMIN), Some(r#"{"name":"x"}"#));
    assert_eq!((st, v["error"]["field"].as_str()), (404, Some("a")), "{v}");
    let (_, list) = s.req("GET", "/v1/accounts", Some(ADMIN), None);
    assert_eq!(list["accounts"][1], json!({"id": "shop", "name": "Acme", "currency": "BRL"}), "{list}");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// With every log line on (debug, access lines included), no secret of any token reaches the
/// server's output: not when created, used, refused or revoked.
#[test]
fn secrets_are_never_logged() {
    let dir = temp_dir("tokens-logs");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.with_extension("log");
    let data = dir.join("data");
    let mut serve = Command::new("sh");
    let line = format!(
        "OFFERNET_LOG=debug exec {BIN} serve --listen 127.0.0.1:0 --data-dir {} 2>{}",
        data.display(),
        log.display()
    );
    serve.args(["-c", &line]);
    let s = Server::spawn(serve, &data);
    let t0 = create(&s, "shop");
    let made = post_token(&s, "shop", &t0, "ci");
    let t1 = made["token"].as_str().unwrap();
    assert_eq!(status_with(&s, "shop", t1), 200);
    assert_eq!(status_with(&s, "shop", &format!("shop.{}.{}", made["id"].as_str().unwrap(), "f".repeat(64))), 401);
    s.req("GET", "/v1/accounts/shop/tokens", Some(t1), None);
    s.req("DELETE", &format!("/v1/accounts/shop/tokens/{}", made["id"].as_str().unwrap()), Some(&t0), None);
    assert_eq!(status_with(&s, "shop", t1), 401);
    s.stop();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("/v1/accounts/{a}/tokens"), "the access lines were written: {text}");
    for secret in [secret(&t0), secret(t1), ADMIN] {
        assert!(!text.contains(secret), "a secret in the logs");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&log);
}

/// A journal written before named tokens holds `CreateAccount` with the hash of
/// `<account>.<secret>`: that token keeps working as the account's token `initial`, and is
/// revoked like any other.
#[test]
fn old_form_tokens_from_an_existing_journal_keep_working() {
    use offernet_store::journal::{Entry, Journal};
    use sha2::{Digest, Sha256};

    let dir = temp_dir("tokens-old-form");
    Server::start(&dir, &[]).stop();
    let old = format!("legacy.{}", "ab".repeat(32));
    let hash: String = Sha256::digest(old.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let path = dir.join(offernet_store::datadir::JOURNAL_FILE);
        let mut j = offernet_store::sqlite::SqliteJournal::open(&path).await.unwrap();
        let end = j.last().await.unwrap();
        let command = offernet_core::Command::CreateAccount {
            id: "legacy".into(),
            name: "Legacy".into(),
            currency: "BRL".into(),
            token_hash: Some(hash),
        };
        let entry = Entry { seq: end.seq + 1, at_ms: 1_700_000_000_000, command };
        j.append_batch(end.batch + 1, &[entry], &[]).await.unwrap();
    });

    let s = Server::start(&dir, &[]);
    assert_eq!(status_with(&s, "legacy", &old), 200);
    let (_, list) = s.req("GET", "/v1/accounts/legacy/tokens", Some(&old), None);
    assert_eq!(list["tokens"], json!([{"id": "initial", "name": "initial", "created_ms": 1_700_000_000_000u64}]));
    let newer = post_token(&s, "legacy", &old, "new form")["token"].as_str().unwrap().to_string();
    assert_eq!(s.req("DELETE", "/v1/accounts/legacy/tokens/initial", Some(&newer), None).0, 204);
    assert_eq!((status_with(&s, "legacy", &old), status_with(&s, "legacy", &newer)), (401, 200));
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
