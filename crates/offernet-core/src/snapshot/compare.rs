//! Whether a stored snapshot, of any format read, holds an engine's state: what
//! `journal verify` asks of every snapshot the replay reaches. A snapshot of the current
//! format must be the same bytes; one of an older format cannot be (it was written by an older
//! encoder), so it is decoded and compared with what that format keeps of the state.

use super::*;
use crate::engine::Engine;

impl Engine {
    /// Whether `bytes` is a snapshot of this engine's ground state. Format 1 did not keep when
    /// the initial token was made (`FORMAT_1_TOKEN_CREATED_MS`), so that time is not compared;
    /// everything else is, byte for byte after decoding (a named token, SKU content or a
    /// product URL, which format 1 cannot hold, makes a difference). Format 2 keeps everything
    /// but webhook subscriptions, format 3 all but integrations: decoded, it must encode as this
    /// state does (so a state with a subscription or an integration differs, as it should).
    pub fn snapshot_matches(&self, bytes: &[u8]) -> bool {
        if self.snapshot_bytes() == bytes {
            return true;
        }
        let initial_token_ms = match bytes.get(8..12) {
            Some(f) if f == 1u32.to_le_bytes() => Some(FORMAT_1_TOKEN_CREATED_MS),
            Some(f) if f == 2u32.to_le_bytes() || f == 3u32.to_le_bytes() => None,
            _ => return false,
        };
        match Engine::from_snapshot_bytes(self.config, bytes) {
            Ok(old) => old.snapshot_bytes() == self.encode(initial_token_ms),
            Err(_) => false,
        }
    }
}
