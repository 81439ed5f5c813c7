//! Helpers of the list tests: writes and reads that must succeed, and a whole list read page by
//! page (following `next_offset`, checking `total` and the page length).

use serde_json::Value;

use super::Server;

pub fn ok(s: &Server, method: &str, path: &str, token: &str, body: Value) -> Value {
    let (st, v) = s.req(method, path, Some(token), Some(&body.to_string()));
    assert!(st == 200 || st == 201, "{method} {path} {body}: {st} {v}");
    v
}

pub fn get(s: &Server, path: &str, token: &str) -> Value {
    let (st, v) = s.req("GET", path, Some(token), None);
    assert_eq!(st, 200, "GET {path}: {v}");
    v
}

/// Every item of a list, following `next_offset` with pages of `limit`; checks `total`.
pub fn all(s: &Server, path: &str, key: &str, token: &str, limit: usize) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let (mut items, mut offset, mut pages) = (Vec::new(), Some(0), 0);
    while let Some(o) = offset {
        let v = get(s, &format!("{path}{sep}limit={limit}&offset={o}"), token);
        let page = v[key].as_array().unwrap_or_else(|| panic!("{path}: {v}"));
        assert!(page.len() <= limit, "{v}");
        items.extend(page.iter().cloned());
        let total = v["total"].as_u64().unwrap() as usize;
        offset = v["next_offset"].as_u64().map(|n| n as usize);
        assert_eq!(offset.is_none(), items.len() == total, "next_offset is null exactly on the last page: {v}");
        pages += 1;
        assert!(pages <= total + 1, "paging does not end");
    }
    items
}

pub fn ids(items: &[Value], key: &str) -> Vec<String> {
    items.iter().map(|x| x[key].as_str().unwrap().to_string()).collect()
}
