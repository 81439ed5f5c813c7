//! GTIN (EAN/UPC) parsing: GTIN-8, -12, -13 and -14 with a valid check digit.

/// Parses a GTIN and returns its value as GTIN-14 (zero-padded), the form in which
/// two GTINs are compared (domain rule 2). `Err` says what is wrong.
pub fn parse_gtin(s: &str) -> Result<u64, &'static str> {
    let len = s.len();
    if !matches!(len, 8 | 12 | 13 | 14) {
        return Err("a GTIN has 8, 12, 13 or 14 digits");
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a GTIN has only digits");
    }
    let digits: Vec<u32> = s.bytes().map(|b| (b - b'0') as u32).collect();
    let (body, check) = digits.split_at(len - 1);
    // Weights alternate 3,1,3,... starting from the digit next to the check digit.
    let sum: u32 = body.iter().rev().enumerate().map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d }).sum();
    let expected = (10 - sum % 10) % 10;
    if expected != check[0] {
        return Err("the GTIN check digit is wrong");
    }
    Ok(s.parse::<u64>().expect("at most 14 digits fit in u64"))
}

#[cfg(test)]
mod tests {
    use super::parse_gtin;

    #[test]
    fn valid_gtins_of_every_length() {
        assert_eq!(parse_gtin("96385074"), Ok(96385074)); // GTIN-8
        assert_eq!(parse_gtin("036000291452"), Ok(36000291452)); // UPC-A
        assert_eq!(parse_gtin("4006381333931"), Ok(4006381333931)); // EAN-13
        assert_eq!(parse_gtin("00036000291452"), Ok(36000291452)); // GTIN-14, same item as the UPC
    }

    #[test]
    fn invalid_gtins() {
        assert!(parse_gtin("4006381333932").is_err()); // check digit
        assert!(parse_gtin("400638133393").is_err()); // 12 digits, wrong check digit
        assert!(parse_gtin("12345").is_err());
        assert!(parse_gtin("40063813339a1").is_err());
        assert!(parse_gtin("").is_err());
    }
}
