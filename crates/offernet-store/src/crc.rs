//! CRC-32 (CRC-32/ISO-HDLC, the IEEE polynomial), to detect a corrupted journal entry or
//! snapshot chunk; computed by `crc32fast`. Not a defence against tampering: an operator who
//! edits history on purpose is not the threat here.

/// The CRC-32 stored beside every journal entry and snapshot. Part of the on-disk format: the
/// known-answer test below fails if it ever changes.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_value() {
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(super::crc32(b""), 0);
    }
}
