//! The webhook commands' unit tests: validation, the lifecycle, snapshots (format 3 and 2).

use super::*;
use crate::command::Command;
use crate::error::Missing;
use crate::state::{Engine, EngineConfig};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECRET2: &str = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn engine() -> Engine {
    let mut e = Engine::default();
    e.apply(&Command::CreateAccount { id: "a".into(), name: "A".into(), currency: "BRL".into(), token_hash: None }, 1)
        .unwrap();
    e
}

fn body(url: &str, events: &[&str]) -> WebhookBody {
    WebhookBody { url: Some(url.into()), events: Some(events.iter().map(|s| s.to_string()).collect()), active: None }
}

fn create(id: &str, b: WebhookBody) -> Command {
    Command::CreateWebhook { account: "a".into(), id: id.into(), secret: SECRET.into(), body: b }
}

#[test]
fn patterns_match_types_families_and_everything() {
    let mut e = engine();
    e.apply(&create("w1", body("https://hooks.example/in", &["offer.changed", "order.*"])), 5).unwrap();
    let t = &e.webhook_targets()[0];
    assert!(t.hook.wants("offer.changed") && t.hook.wants("order.cancelled"));
    assert!(!t.hook.wants("suggestion.created"));
    assert!(pattern_matches("*", "suggestion.denied"));
    assert!(!pattern_matches("order.*", "orders.x"));
}

#[test]
fn a_subscription_is_created_patched_disabled_rotated_and_deleted() {
    let mut e = engine();
    e.apply(&create("w1", body("http://127.0.0.1:9/x", &["*"])), 5).unwrap();
    let v = e.webhook("a", "w1").unwrap();
    assert_eq!((v.active, v.disabled_reason.clone(), v.created_ms, v.from_seq), (true, None, 5, 0));
    assert!(e.apply(&create("w1", body("https://x.example", &["*"])), 5).unwrap_err().to_string().contains("already"));
    let dis = Command::DisableWebhook { account: "a".into(), id: "w1".into(), reason: "failing for 3 days".into() };
    e.apply(&dis, 6).unwrap();
    assert_eq!(e.webhook("a", "w1").unwrap().disabled_reason.as_deref(), Some("failing for 3 days"));
    assert!(!e.webhook_targets()[0].hook.sending());
    let patch = WebhookBody { active: Some(true), ..Default::default() };
    e.apply(&Command::PatchWebhook { account: "a".into(), id: "w1".into(), body: patch }, 7).unwrap();
    assert!(e.webhook_targets()[0].hook.sending(), "re-enabled");
    let rotate = Command::RotateWebhookSecret { account: "a".into(), id: "w1".into(), secret: SECRET2.into() };
    e.apply(&rotate, 8).unwrap();
    assert_eq!(e.webhook_secret("a", "w1").as_deref(), Some(SECRET2));
    e.apply(&Command::DeleteWebhook { account: "a".into(), id: "w1".into() }, 9).unwrap();
    let gone = e.apply(&Command::DeleteWebhook { account: "a".into(), id: "w1".into() }, 9).unwrap_err();
    assert!(matches!(gone, DomainError::NotFound { missing: Missing::Webhook, .. }), "{gone}");
}

#[test]
fn bad_bodies_name_their_field_before_the_account() {
    let mut e = engine();
    let nobody = |b| Command::CreateWebhook { account: "zz".into(), id: "w".into(), secret: SECRET.into(), body: b };
    let cases = [
        (body("ftp://x.example", &["*"]), "url"),
        (body("https://user@x.example", &["*"]), "url"),
        (body("https://x.example", &[]), "events"),
        (body("https://x.example", &["offer.*", "offer.*"]), "events"),
        (body("https://x.example", &["stock.changed"]), "events"),
        (WebhookBody { url: None, ..body("https://x.example", &["*"]) }, "url"),
    ];
    for (b, field) in cases {
        match e.apply(&nobody(b.clone()), 0).unwrap_err() {
            DomainError::InvalidField { field: f, .. } => assert_eq!(f, field, "{b:?}"),
            other => panic!("{b:?}: {other}"),
        }
    }
    let bad_secret = Command::CreateWebhook {
        account: "a".into(),
        id: "w".into(),
        secret: "whsec_short".into(),
        body: body("https://x.example", &["*"]),
    };
    assert!(e.apply(&bad_secret, 0).unwrap_err().to_string().contains("secret"));
    for i in 0..MAX_WEBHOOKS_PER_ACCOUNT {
        e.apply(&create(&format!("w{i}"), body("https://x.example", &["*"])), 0).unwrap();
    }
    assert!(e.apply(&create("one-more", body("https://x.example", &["*"])), 0).unwrap_err().to_string().contains("20"));
}

#[test]
fn subscriptions_survive_a_snapshot_and_a_format_2_snapshot_still_reads() {
    let mut e = engine();
    e.apply(&create("w1", body("https://hooks.example/in", &["order.*"])), 5).unwrap();
    let dis = Command::DisableWebhook { account: "a".into(), id: "w1".into(), reason: "gone".into() };
    e.apply(&dis, 6).unwrap();
    let bytes = e.snapshot_bytes();
    let copy = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap();
    assert_eq!(copy.webhook_targets(), e.webhook_targets());
    assert!(copy.snapshot_matches(&bytes));
    // A format-2 snapshot is what format 6 kept without the webhook, integration, VTEX, external
    // order, outbound, conflicts and follow-up e-mails sections (their counts, all 0 here: 4 +
    // 4 + 12 + 4 + 12 + 4 + 4 bytes).
    let plain = engine();
    let mut v2 = plain.snapshot_bytes_kept_by(2);
    assert_eq!(v2.split_off(v2.len() - 44), [0u8; 44]);
    v2[8..12].copy_from_slice(&2u32.to_le_bytes());
    let old = Engine::from_snapshot_bytes(EngineConfig::default(), &v2).unwrap();
    assert!(old.webhook_targets().is_empty());
    assert!(plain.snapshot_matches(&v2), "a format-2 snapshot of the same state matches");
    assert!(!e.snapshot_matches(&v2), "a state with a subscription differs from it");
}

/// The 2,048-character limit is on the URL as given: an `http://` URL of exactly 2,048
/// characters is accepted (its `https://` rewrite, checked for shape only, is one longer), and
/// one character more is refused for either scheme (schemathesis found the off-by-one).
#[test]
fn the_url_length_limit_is_on_the_url_as_given() {
    for scheme in ["http://", "https://"] {
        let head = format!("{scheme}h.example/");
        let at_limit = format!("{head}{}", "a".repeat(crate::validate::MAX_URL_LEN - head.len()));
        assert!(webhook_url("url", &at_limit).is_ok(), "{scheme} at the limit");
        assert!(webhook_url("url", &format!("{at_limit}a")).is_err(), "{scheme} over the limit");
    }
}
