//! `offernet demo`: the source documents' example (Seller A → Marketplace A → Marketplace B),
//! run in-process, printing what each marketplace sees at every stage and why.

use std::fmt::Write as _;

use offernet_core::*;
use serde_json::json;

struct Demo {
    engine: Engine,
    out: String,
}

impl Demo {
    fn run(&mut self, what: &str, cmd: serde_json::Value) {
        let cmd = crate::shared::cmd(cmd);
        let events = self.engine.apply(&cmd, 0).unwrap_or_else(|e| panic!("demo command refused: {e}"));
        let _ = writeln!(self.out, "  > {what}");
        for e in &events {
            match &e.body {
                EventBody::OfferChanged { marketplace, sku, seller, offer, .. } => {
                    let state = match offer {
                        None => "gone".to_string(),
                        Some(o) => describe(o.quantity, o.unlimited, o.sellable, &o.reasons),
                    };
                    let _ = writeln!(
                        self.out,
                        "      event #{}: offer.changed at {marketplace}: {sku} from {seller} is now {state}",
                        e.seq
                    );
                }
                other => {
                    let _ = writeln!(self.out, "      event #{}: {}", e.seq, other.kind());
                }
            }
        }
    }

    fn stage(&mut self, title: &str, text: &str) {
        let _ = writeln!(self.out, "\n== {title} ==\n{text}\n");
    }

    fn show(&mut self, marketplace: &str, sku: &str) {
        let _ = writeln!(self.out, "\n  What {marketplace} sees for its SKU {sku}:");
        match self.engine.explain(marketplace, sku) {
            Err(_) => {
                let _ = writeln!(self.out, "    (no such SKU: nothing was sent to {marketplace})");
            }
            Ok(x) if x.offers.is_empty() => {
                let _ = writeln!(self.out, "    no offers");
            }
            Ok(x) => {
                for o in &x.offers {
                    let _ = writeln!(
                        self.out,
                        "    offer from {} ({}): {}",
                        o.seller,
                        o.seller_sku,
                        describe(o.quantity, o.unlimited, o.sellable, &o.reasons)
                    );
                    let p = &o.path;
                    let _ = writeln!(
                        self.out,
                        "      {} sells {} at {}: own stock {}, from its sources {}{}",
                        p.account,
                        p.sku,
                        p.price.map_or("no price".into(), |v| format!("{}.{:02} BRL", v / 100, v % 100)),
                        qty(p.own, false),
                        qty(p.third, false),
                        if p.gated { " (gated: it holds none of its own)" } else { "" }
                    );
                    tree(&mut self.out, &p.sources, 8);
                }
            }
        }
    }

    fn sent(&mut self, seller: &str, marketplace: &str, sku: &str) {
        let sent = self.engine.sent_offers(seller, Some(marketplace)).expect("accounts exist");
        if let Some(s) = sent.iter().find(|s| *s.seller_sku == *sku) {
            let _ = writeln!(
                self.out,
                "\n  {seller} -> {marketplace}, item {sku}: {} ({})",
                match s.status {
                    None => "not sent".to_string(),
                    Some(st) => format!("suggestion {}", st.as_str()),
                },
                if s.reasons.is_empty() { "sellable".to_string() } else { s.reasons.join(", ") }
            );
        }
    }
}

fn qty(q: Option<u64>, unlimited: bool) -> String {
    match (q, unlimited) {
        (_, true) | (None, _) => "unlimited".into(),
        (Some(n), _) => n.to_string(),
    }
}

fn describe(q: Option<u64>, unlimited: bool, sellable: bool, reasons: &[String]) -> String {
    if sellable {
        format!("SELLABLE, quantity {}", qty(q, unlimited))
    } else {
        format!("not sellable, quantity {} (reasons: {})", qty(q, unlimited), reasons.join(", "))
    }
}

fn tree(out: &mut String, sources: &[ExplainSource], indent: usize) {
    for s in sources {
        let _ = writeln!(
            out,
            "{:indent$}<- {} {}: own {}, quantity {}, {}{}",
            "",
            s.account,
            s.sku,
            qty(s.own, false),
            qty(s.quantity, s.unlimited),
            if s.included { "counted" } else { "not counted" },
            if s.reasons.is_empty() { String::new() } else { format!(" ({})", s.reasons.join(", ")) },
        );
        tree(out, &s.sources, indent + 4);
    }
}

/// Runs the demo and returns its text. Long on purpose: it is the story of the documents'
/// example, stage after stage in the order a reader follows it.
pub fn run() -> String {
    let mut d = Demo { engine: Engine::default(), out: String::new() };
    let _ = writeln!(
        d.out,
        "offernet demo: the documents' example, Seller A -> Marketplace A -> Marketplace B.\n\
         Rule: a marketplace may send a seller's product on to another marketplace only if it holds\n\
         that product in its own stock, and a seller's stock is only sold where that seller authorised it."
    );
    d.stage("Setup", "Three stores. Seller A has 10 running shoes in its warehouse, priced 100.00 BRL.");
    for (id, name) in [("seller-a", "Seller A"), ("marketplace-a", "Marketplace A"), ("marketplace-b", "Marketplace B")]
    {
        d.run(
            &format!("create account {id}"),
            json!({"type": "create_account", "id": id, "name": name, "currency": "BRL"}),
        );
    }
    d.run(
        "Seller A adds SKU shoe-1 to its catalog",
        json!({"type": "put_sku", "account": "seller-a", "sku": "shoe-1", "body": {"name": "Running shoe", "brand": "Acme", "ean": "4006381333931"}}),
    );
    d.run(
        "Seller A prices it at 100.00",
        json!({"type": "put_price", "account": "seller-a", "sku": "shoe-1", "body": {"price": 10000}}),
    );
    d.run(
        "Seller A opens warehouse main (serving trade policy 1)",
        json!({"type": "put_warehouse", "account": "seller-a", "warehouse": "main", "body": {"trade_policies": ["1"]}}),
    );
    d.run(
        "Seller A stocks 10 units",
        json!({"type": "put_stock", "account": "seller-a", "warehouse": "main", "sku": "shoe-1", "body": {"quantity": 10}}),
    );

    d.stage(
        "Seller A sells in Marketplace A",
        "Both halves of the connection are written: Seller A's affiliation (trade policy 1) and\n\
         Marketplace A's registration (auto matching). The item is sent, matched, and the offer appears.",
    );
    d.run(
        "Seller A: affiliation with marketplace-a",
        json!({"type": "put_affiliation", "seller": "seller-a", "marketplace": "marketplace-a", "body": {"trade_policy": "1"}}),
    );
    d.run(
        "Marketplace A: registers seller-a",
        json!({"type": "put_seller", "marketplace": "marketplace-a", "seller": "seller-a", "body": {"match_mode": "auto"}}),
    );
    d.show("marketplace-a", "seller-a-shoe-1");

    d.stage(
        "Stage 1: Marketplace A connects to Marketplace B, holding none of the shoe",
        "Marketplace A may resell the shoe to B only if it holds it in its own stock. It holds none,\n\
         so nothing is sent to B.",
    );
    d.run(
        "Marketplace A prices its SKU at 110.00",
        json!({"type": "put_price", "account": "marketplace-a", "sku": "seller-a-shoe-1", "body": {"price": 11000}}),
    );
    d.run(
        "Marketplace A: affiliation with marketplace-b",
        json!({"type": "put_affiliation", "seller": "marketplace-a", "marketplace": "marketplace-b", "body": {"trade_policy": "1"}}),
    );
    d.run(
        "Marketplace B: registers marketplace-a",
        json!({"type": "put_seller", "marketplace": "marketplace-b", "seller": "marketplace-a", "body": {}}),
    );
    d.sent("marketplace-a", "marketplace-b", "seller-a-shoe-1");

    d.stage(
        "Stage 2: Marketplace A stocks 3 shoes of its own",
        "Now the item is sent to B. B sees A's own 3 units; Seller A's 10 are not added,\n\
         because Seller A has not authorised resale.",
    );
    d.run(
        "Marketplace A opens warehouse store",
        json!({"type": "put_warehouse", "account": "marketplace-a", "warehouse": "store", "body": {}}),
    );
    d.run(
        "Marketplace A stocks 3 units",
        json!({"type": "put_stock", "account": "marketplace-a", "warehouse": "store", "sku": "seller-a-shoe-1", "body": {"quantity": 3}}),
    );
    d.show("marketplace-b", "marketplace-a-seller-a-shoe-1");

    d.stage(
        "Stage 3: Seller A authorises resale to Marketplace B",
        "B now sees 3 + 10 = 13 units, in the same command.",
    );
    d.run(
        "Seller A: resale [marketplace-b]",
        json!({"type": "patch_affiliation", "seller": "seller-a", "marketplace": "marketplace-a", "body": {"resale": ["marketplace-b"]}}),
    );
    d.show("marketplace-b", "marketplace-a-seller-a-shoe-1");

    d.stage(
        "Stage 4: Marketplace A sells out",
        "With require_own_stock (the default), A's offer at B is gated: A holds none of its own.",
    );
    d.run(
        "Marketplace A: stock 0",
        json!({"type": "put_stock", "account": "marketplace-a", "warehouse": "store", "sku": "seller-a-shoe-1", "body": {"quantity": 0}}),
    );
    d.show("marketplace-b", "marketplace-a-seller-a-shoe-1");

    d.stage(
        "Stage 5: Marketplace A turns off require_own_stock towards B",
        "Multi-level resale: B sees Seller A's 10 units through A, though A holds none.",
    );
    d.run(
        "Marketplace A: require_own_stock = false on its affiliation with B",
        json!({"type": "patch_affiliation", "seller": "marketplace-a", "marketplace": "marketplace-b", "body": {"require_own_stock": false}}),
    );
    d.show("marketplace-b", "marketplace-a-seller-a-shoe-1");

    d.stage(
        "Stage 6: a cycle",
        "Marketplace B stocks 2 shoes of its own and also sells to Marketplace A, authorising all resale.\n\
         A matches B's shoe to its own by EAN. Stock never flows back into an account it already passed\n\
         through: the cycle is cut (reason loop), visibly, and the computation ends.",
    );
    d.run(
        "Marketplace B prices its SKU at 120.00",
        json!({"type": "put_price", "account": "marketplace-b", "sku": "marketplace-a-seller-a-shoe-1", "body": {"price": 12000}}),
    );
    d.run(
        "Marketplace B opens warehouse b1",
        json!({"type": "put_warehouse", "account": "marketplace-b", "warehouse": "b1", "body": {}}),
    );
    d.run(
        "Marketplace B stocks 2 units",
        json!({"type": "put_stock", "account": "marketplace-b", "warehouse": "b1", "sku": "marketplace-a-seller-a-shoe-1", "body": {"quantity": 2}}),
    );
    d.run(
        "Marketplace B: affiliation with marketplace-a, resale all",
        json!({"type": "put_affiliation", "seller": "marketplace-b", "marketplace": "marketplace-a", "body": {"trade_policy": "1", "resale": "all", "require_own_stock": false}}),
    );
    d.run(
        "Marketplace A: registers marketplace-b",
        json!({"type": "put_seller", "marketplace": "marketplace-a", "seller": "marketplace-b", "body": {}}),
    );
    d.show("marketplace-a", "seller-a-shoe-1");
    d.engine.check_invariants().expect("the demo keeps every invariant");
    let _ = writeln!(d.out, "\nEvery offer above equals a from-scratch recomputation (checked).");
    d.out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_tells_the_story() {
        let text = super::run();
        assert!(text.contains("marketplace-a -> marketplace-b, item seller-a-shoe-1: not sent"), "{text}");
        assert!(text.contains("offer from marketplace-a (seller-a-shoe-1): SELLABLE, quantity 3"), "{text}");
        assert!(text.contains("offer from marketplace-a (seller-a-shoe-1): SELLABLE, quantity 13"), "{text}");
        assert!(text.contains("forwarder_has_no_own_stock"), "{text}");
        assert!(text.contains("offer from marketplace-a (seller-a-shoe-1): SELLABLE, quantity 10"), "{text}");
        assert!(text.contains("(loop)"), "{text}");
    }
}
