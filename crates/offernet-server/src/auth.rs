//! Tokens. The operator token comes from `OFFERNET_ADMIN_TOKEN` or is generated and stored in
//! the data directory. An account token is `<account>.<id>.<secret>` (accounts created before
//! named tokens have `<account>.<secret>`, their token `initial`), returned once when it is
//! created; only its SHA-256 is stored (journaled). The token names its account and id, so a
//! request costs one lookup and one constant-time comparison, however many tokens exist.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Who is calling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Operator,
    Account(String),
}

pub fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

/// Lower-case hex of `bytes`, written into one string.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(2 * bytes.len());
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Equal in time independent of where the inputs differ (one definition, the store's: it
/// compares connection keys' hashes too).
pub use offernet_store::secrets::constant_time_eq;

/// `n` random bytes from the operating system, as hex.
fn random_hex(n: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(hex(&buf))
}

/// 32 random bytes from the operating system, as hex.
pub fn random_secret() -> std::io::Result<String> {
    random_hex(32)
}

/// The account and token id a bearer token names: `<account>.<id>.<secret>`, or
/// `<account>.<secret>` for the token `initial` of accounts created before named tokens (their
/// secret has no `.`; account and token ids have none either).
pub fn token_key(token: &str) -> Option<(&str, &str)> {
    let (account, rest) = token.split_once('.')?;
    Some(match rest.split_once('.') {
        Some((id, _secret)) => (account, id),
        None => (account, offernet_core::INITIAL_TOKEN_ID),
    })
}

/// A new token id: 16 random hex digits (ids are the server's, so the engine stays
/// deterministic; random, so two concurrent creations never contend for one).
pub fn new_token_id() -> std::io::Result<String> {
    random_hex(8)
}

/// A new token of `account` with id `id`: the token (shown once) and the SHA-256 that is
/// stored.
pub fn new_account_token(account: &str, id: &str) -> std::io::Result<(String, String)> {
    let token = format!("{account}.{id}.{}", random_secret()?);
    let hash = sha256_hex(&token);
    Ok((token, hash))
}

/// Shortest operator token accepted: it can do anything, so it must not be guessable. 32
/// characters of hex or base64 carry 128 bits or more; the generated one has 64 hex digits.
pub const MIN_OPERATOR_TOKEN_LEN: usize = 32;

fn strong(t: String, source: &str) -> std::io::Result<String> {
    let t = t.trim().to_string();
    // Visible ASCII only: an HTTP header carries nothing else reliably, so another token
    // could never be sent.
    if t.len() < MIN_OPERATOR_TOKEN_LEN || !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "the operator token from {source} must be at least {MIN_OPERATOR_TOKEN_LEN} visible ASCII characters, without spaces (e.g. `openssl rand -hex 32`)"
            ),
        ));
    }
    Ok(t)
}

/// The operator token: from the environment, else the one stored in the data directory, else
/// a new one written there (mode 0600). Surrounding white space is trimmed; a token shorter
/// than `MIN_OPERATOR_TOKEN_LEN` is refused. Returns the token and where it came from.
pub fn operator_token(env: Option<String>, data_dir: &Path) -> std::io::Result<(String, String)> {
    if let Some(t) = env.filter(|t| !t.trim().is_empty()) {
        return Ok((strong(t, "OFFERNET_ADMIN_TOKEN")?, "OFFERNET_ADMIN_TOKEN".into()));
    }
    let path = data_dir.join("admin-token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        if !t.trim().is_empty() {
            return Ok((strong(t, &path.display().to_string())?, path.display().to_string()));
        }
    }
    let t = format!("admin.{}", random_secret()?);
    // Created 0600 from the start (never readable by others, not even for a moment).
    offernet_store::datadir::write_private_atomic(&path, format!("{t}\n").as_bytes())?;
    Ok((t, path.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn operator_tokens_are_trimmed_and_long() {
        let dir = std::env::temp_dir().join(format!("offernet-auth-env-{}", std::process::id()));
        let long = "0123456789abcdef0123456789abcdef";
        let (t, _) = operator_token(Some(format!("  {long}\n")), &dir).unwrap();
        assert_eq!(t, long);
        for weak in ["short", &long[1..], "0123456789abcdef 0123456789abcdef", "0123456789abcdef0123456789abcdeé"] {
            let e = operator_token(Some(weak.to_string()), &dir).unwrap_err();
            assert!(e.to_string().contains("at least 32"), "{weak}: {e}");
        }
    }

    #[test]
    fn a_generated_operator_token_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("offernet-auth-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Even with a umask that lets everyone read new files, the token is 0600 when written.
        let (t, _) = operator_token(None, &dir).unwrap();
        let mode = std::fs::metadata(dir.join("admin-token")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(operator_token(None, &dir).unwrap().0, t, "read back, not regenerated");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_token_names_its_account_and_id() {
        assert_eq!(token_key("shop.initial.abc"), Some(("shop", "initial")));
        assert_eq!(token_key("shop.3f9a0c1b2d4e5f60.abc"), Some(("shop", "3f9a0c1b2d4e5f60")));
        // The old format: the account's first token.
        assert_eq!(token_key("shop.abc"), Some(("shop", "initial")));
        assert_eq!(token_key("nodot"), None);
        let (token, hash) = new_account_token("shop", "t1").unwrap();
        assert_eq!(token_key(&token), Some(("shop", "t1")));
        assert_eq!(hash, sha256_hex(&token));
        assert_eq!(new_token_id().unwrap().len(), 16);
        assert!(offernet_core::accounts::token_id("id", &new_token_id().unwrap()).is_ok());
    }

    #[test]
    fn secrets_are_random() {
        assert_ne!(random_secret().unwrap(), random_secret().unwrap());
        assert_eq!(random_secret().unwrap().len(), 64);
    }
}
