//! Whether a stored snapshot, of any format read, holds an engine's state: what
//! `journal verify` asks of every snapshot the replay reaches. A snapshot of the current
//! format must be the same bytes; one of an older format cannot be (it was written by an older
//! encoder), so it is decoded and compared with what that format keeps of the state.

use super::*;
use crate::state::Engine;

impl Engine {
    /// Whether `bytes` is a snapshot of this engine's ground state. Format 1 did not keep when
    /// the initial token was made (`FORMAT_1_TOKEN_CREATED_MS`), so that time is not compared;
    /// everything else is, byte for byte after decoding (a named token, SKU content or a
    /// product URL, which format 1 cannot hold, makes a difference). Format 2 keeps everything
    /// but webhook subscriptions: decoded, it must encode as this state does (so a state with
    /// a subscription differs, as it should). Format 3 lacks the integrations
    /// (`integrations.rs`) and the VTEX section (`vtex.rs`) the same way, and formats before 4 the orders' dates, which are not compared
    /// (`snapshot_bytes_kept_by`). Both sides are encoded as that format keeps them (its SKU
    /// layout included), so only what it keeps is compared.
    pub fn snapshot_matches(&self, bytes: &[u8]) -> bool {
        if self.snapshot_bytes() == bytes {
            return true;
        }
        let format = match bytes.get(8..12) {
            Some(f) => u32::from_le_bytes([f[0], f[1], f[2], f[3]]),
            None => return false,
        };
        if !(1..SNAPSHOT_FORMAT).contains(&format) {
            return false;
        }
        match Engine::from_snapshot_bytes(self.config, bytes) {
            Ok(old) => old.snapshot_bytes_kept_by(format) == self.snapshot_bytes_kept_by(format),
            Err(_) => false,
        }
    }
}
