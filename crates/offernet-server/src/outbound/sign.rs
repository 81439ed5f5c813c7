//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): the signed content is
//! `{webhook-id}.{webhook-timestamp}.{body}`, signed with HMAC-SHA256 under the secret's bytes
//! (the base64 after `whsec_`), sent as `webhook-signature: v1,<base64 of the MAC>`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of a new secret: 32 (256 bits), the spec's recommendation for HMAC-SHA256.
const SECRET_BYTES: usize = 32;

/// A new secret `whsec_<base64 of 32 random bytes>`.
pub fn new_secret() -> std::io::Result<String> {
    use std::io::Read;
    let mut buf = [0u8; SECRET_BYTES];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(format!("whsec_{}", B64.encode(buf)))
}

/// The `webhook-signature` header value for one message, or `None` for a secret that does not
/// decode (the engine checks its form; this cannot happen for a secret it accepted).
pub fn signature(secret: &str, msg_id: &str, timestamp: u64, body: &[u8]) -> Option<String> {
    let key = B64.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks example (secret, id, timestamp, body); the expected signature was
    /// computed with Python's `hmac`, `hashlib` and `base64`, not with this code.
    #[test]
    fn the_reference_example_signs_the_same() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn new_secrets_are_well_formed_and_differ() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        offernet_core::webhooks::webhook_secret("secret", &a).unwrap();
        assert_eq!(B64.decode(&a[6..]).unwrap().len(), SECRET_BYTES);
    }
}
