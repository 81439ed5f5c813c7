//! The overlay: patches to VTEX's published OpenAPI files for the defects that real VTEX traffic
//! contradicts (design vtex-compat.md section 5). Each patch names its file, quotes the VTEX
//! sentence that justifies it (`because`, with `source`) and lists RFC 6902 operations (`add`,
//! `remove`, `replace`, `copy`, `move`) whose JSON pointers address the file as published.

use serde_json::Value;

use crate::error::{Error, Result};

/// The overlay file of this crate, embedded at build time.
pub const OVERLAY_JSON: &str = include_str!("../overlay.json");

/// At most this many patches and operations per patch (a limit on everything we read).
const MAX_PATCHES: usize = 64;
const MAX_OPERATIONS: usize = 64;

/// One patch: a numbered fix of one file, with the sentence that justifies it.
#[derive(Debug, Clone)]
pub struct Patch {
    pub number: u64,
    /// The VTEX file it patches, e.g. `external-seller-fulfillment.json`.
    pub file: String,
    pub title: String,
    /// The VTEX sentence that justifies the patch.
    pub because: String,
    /// Where that sentence is.
    pub source: String,
    operations: Vec<Value>,
}

/// The patches, in the order they are applied.
#[derive(Debug, Clone)]
pub struct Overlay {
    patches: Vec<Patch>,
}

impl Overlay {
    /// The overlay of this crate (`overlay.json`).
    pub fn published() -> Result<Overlay> {
        Overlay::from_json(OVERLAY_JSON)
    }

    /// An overlay from its JSON text; refuses a patch without a sentence, a source or operations.
    pub fn from_json(text: &str) -> Result<Overlay> {
        let doc: Value = serde_json::from_str(text).map_err(|e| Error::new(format!("overlay: not JSON: {e}")))?;
        let list = doc["patches"].as_array().ok_or_else(|| Error::new("overlay: no `patches` array"))?;
        if list.len() > MAX_PATCHES {
            return Err(Error::new(format!("overlay: {} patches (at most {MAX_PATCHES})", list.len())));
        }
        let patches = list.iter().enumerate().map(|(i, p)| parse_patch(i, p)).collect::<Result<Vec<_>>>()?;
        Ok(Overlay { patches })
    }

    /// The patches, in order.
    pub fn patches(&self) -> &[Patch] {
        &self.patches
    }

    /// The same overlay without patch `number` (to show that a fixture needs exactly that patch).
    pub fn without_patch(&self, number: u64) -> Overlay {
        Overlay { patches: self.patches.iter().filter(|p| p.number != number).cloned().collect() }
    }

    /// Applies the patches of `file` to `doc`, the file as published.
    pub fn apply(&self, file: &str, doc: &mut Value) -> Result<()> {
        for patch in self.patches.iter().filter(|p| p.file == file) {
            for (i, op) in patch.operations.iter().enumerate() {
                apply_operation(doc, op)
                    .map_err(|e| Error::new(format!("overlay patch {} operation {i}: {e}", patch.number)))?;
            }
        }
        Ok(())
    }
}

fn parse_patch(index: usize, p: &Value) -> Result<Patch> {
    let text = |key: &str| -> Result<String> {
        match p[key].as_str() {
            Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
            _ => Err(Error::new(format!("overlay: patch {index} has no `{key}`"))),
        }
    };
    let operations = p["operations"].as_array().cloned().unwrap_or_default();
    if operations.is_empty() || operations.len() > MAX_OPERATIONS {
        return Err(Error::new(format!("overlay: patch {index} needs 1 to {MAX_OPERATIONS} operations")));
    }
    Ok(Patch {
        number: p["patch"].as_u64().ok_or_else(|| Error::new(format!("overlay: patch {index} has no number")))?,
        file: text("file")?,
        title: text("title")?,
        because: text("because")?,
        source: text("source")?,
        operations,
    })
}

/// One RFC 6902 operation (all but `test`).
fn apply_operation(doc: &mut Value, op: &Value) -> std::result::Result<(), String> {
    let path = op["path"].as_str().ok_or("no `path`")?;
    let from = || op["from"].as_str().ok_or_else(|| "no `from`".to_string());
    match op["op"].as_str() {
        Some("add") => add(doc, path, op.get("value").ok_or("no `value`")?.clone()),
        Some("replace") => {
            let target = doc.pointer_mut(path).ok_or_else(|| format!("replace: nothing at {path}"))?;
            *target = op.get("value").ok_or("no `value`")?.clone();
            Ok(())
        }
        Some("remove") => remove(doc, path).map(drop),
        Some("copy") => {
            let value = doc.pointer(from()?).cloned().ok_or_else(|| format!("copy: nothing at {}", op["from"]))?;
            add(doc, path, value)
        }
        Some("move") => {
            let value = remove(doc, from()?)?;
            add(doc, path, value)
        }
        other => Err(format!("unsupported op {other:?}")),
    }
}

/// Splits a pointer into its parent pointer and its last token (unescaped).
fn split(path: &str) -> std::result::Result<(&str, String), String> {
    let cut = path.rfind('/').ok_or_else(|| format!("bad pointer {path:?}"))?;
    Ok((&path[..cut], path[cut + 1..].replace("~1", "/").replace("~0", "~")))
}

fn add(doc: &mut Value, path: &str, value: Value) -> std::result::Result<(), String> {
    let (parent, last) = split(path)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            if map.contains_key(&last) {
                return Err(format!("add: {path} exists (use replace)"));
            }
            map.insert(last, value);
            Ok(())
        }
        Some(Value::Array(list)) => {
            let at =
                if last == "-" { list.len() } else { last.parse().map_err(|_| format!("add: bad index in {path}"))? };
            if at > list.len() {
                return Err(format!("add: index out of range in {path}"));
            }
            list.insert(at, value);
            Ok(())
        }
        _ => Err(format!("add: no object or array at {parent}")),
    }
}

fn remove(doc: &mut Value, path: &str) -> std::result::Result<Value, String> {
    let (parent, last) = split(path)?;
    let removed = match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&last),
        Some(Value::Array(list)) => match last.parse::<usize>() {
            Ok(i) if i < list.len() => Some(list.remove(i)),
            _ => None,
        },
        _ => None,
    };
    removed.ok_or_else(|| format!("remove: nothing at {path}"))
}
