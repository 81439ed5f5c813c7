//! The engine's URL checks (`validate::https_url`, `validate::url_template`) accept exactly
//! the strings the published OpenAPI patterns accept (`HttpsUrl`, `TradePolicyBody.product_url`),
//! so a client that follows the document is never refused, and one that does not is never
//! let through. Checked on hand-picked edge cases and on seeded random mutations of them.

use offernet_core::validate::{https_url, url_template};
use serde_json::{json, Value};

/// SplitMix64, seeded: the same strings on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    "https://shop.example",
    "https://shop.example/p/{sku}",
    "https://cdn-1.shop.example:8443/img/a%20b.jpg?w=200#top",
    "https://192.168.0.1/{sku}",
    "https://a:65535/{sku}",
    "https://a:65536/x",
    "https://a:/x",
    "https://user@a/x",
    "https://a-.b/{sku}",
    "https://-a.b/",
    "https://a..b/",
    "https://a.b./",
    "https://[::1]/",
    "http://a/{sku}",
    "HTTPS://a/",
    "https://a?q={sku}",
    "https://a#{sku}",
    "https://{sku}.a/",
    "https:///{sku}",
];

/// Characters a mutation inserts or swaps in: the URL's own, and ones it must refuse.
const ALPHABET: &[char] =
    &['a', 'Z', '0', '9', '-', '.', ':', '/', '?', '#', '@', '{', '}', 's', 'k', 'u', '%', ' ', 'é', '\n', '_', '['];

fn mutate(r: &mut Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    for _ in 0..1 + r.below(3) {
        let at = r.below(c.len() + 1);
        match r.below(3) {
            0 => c.insert(at, ALPHABET[r.below(ALPHABET.len())]),
            1 if at < c.len() => {
                c.remove(at);
            }
            _ if at < c.len() => c[at] = ALPHABET[r.below(ALPHABET.len())],
            _ => {}
        }
    }
    c.into_iter().collect()
}

fn schema(spec: &Value, pointer: &str) -> jsonschema::Validator {
    let s = spec.pointer(pointer).unwrap_or_else(|| panic!("{pointer} in the document")).clone();
    let s = json!({"type": "string", "pattern": s["pattern"], "maxLength": s["maxLength"]});
    jsonschema::draft202012::new(&s).unwrap()
}

#[test]
fn the_checks_accept_exactly_what_the_patterns_accept() {
    let spec = serde_json::to_value(offernet_server::openapi::spec()).unwrap();
    let image = schema(&spec, "/components/schemas/HttpsUrl");
    let product = schema(&spec, "/components/schemas/TradePolicyBody/properties/product_url");
    let mut r = Rng(12);
    let mut cases: Vec<String> = SEEDS.iter().map(|s| s.to_string()).collect();
    cases.push(format!("https://a/{}", "x".repeat(2038)));
    cases.push(format!("https://a/{}", "x".repeat(2039)));
    for i in 0..20_000 {
        cases.push(mutate(&mut r, SEEDS[i % SEEDS.len()]));
    }
    let (mut images, mut products) = (0, 0);
    for c in &cases {
        let v = Value::String(c.clone());
        assert_eq!(image.is_valid(&v), https_url("images[0]", c).is_ok(), "image URL {c:?}");
        assert_eq!(product.is_valid(&v), url_template("product_url", c).is_ok(), "product URL {c:?}");
        images += image.is_valid(&v) as usize;
        products += product.is_valid(&v) as usize;
    }
    // Both sides of each check are reached often.
    assert!(images > 1_000 && cases.len() - images > 1_000, "{images} of {}", cases.len());
    assert!(products > 300 && cases.len() - products > 1_000, "{products} of {}", cases.len());
}
