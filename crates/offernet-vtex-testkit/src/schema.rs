//! VTEX's four OpenAPI files as JSON Schema validators, with or without the overlay.
//!
//! Per schema, the validator's root is `{"$ref": "#/components/schemas/X", "components": …}` over
//! the file's components after the overlay and the OpenAPI 3.0 rewrite (`rewrite.rs`); an
//! operation's request or response schema is placed at `#/x-operation` beside the components.
//! Draft 4 (the dialect OpenAPI 3.0 extends: `$ref` siblings ignored), unknown formats (`int32`,
//! `decimal`) ignored. Validators are compiled on first use and cached.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::Validator;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::overlay::Overlay;
use crate::rewrite;

/// Environment variable naming the directory of the four VTEX files (default: `shared/vtex-openapi`
/// beside the workspace, i.e. `../shared/vtex-openapi` from the repository root).
pub const OPENAPI_DIR_ENV: &str = "OFFERNET_VTEX_OPENAPI_DIR";

/// At most this many violations are reported per validation.
const MAX_VIOLATIONS: usize = 20;
/// The files are about 550 kB together; refuse anything far larger.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One of VTEX's four OpenAPI files (design vtex-compat.md: ESF, ESM, MA, SUG).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum File {
    /// `external-seller-fulfillment.json`: what a seller serves to a marketplace.
    Esf,
    /// `external-seller-marketplace.json`: what a marketplace serves to a seller.
    Esm,
    /// `marketplace-apis.json`: change notifications (notificator) and the rest.
    Ma,
    /// `marketplace-suggestions.json`: SKU suggestions.
    Sug,
}

impl File {
    pub const ALL: [File; 4] = [File::Esf, File::Esm, File::Ma, File::Sug];

    pub fn file_name(self) -> &'static str {
        match self {
            File::Esf => "external-seller-fulfillment.json",
            File::Esm => "external-seller-marketplace.json",
            File::Ma => "marketplace-apis.json",
            File::Sug => "marketplace-suggestions.json",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Which body of an operation: the request, or the answer with a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Request,
    Response(u16),
}

/// A media-type `example` of an operation that has a schema.
#[derive(Debug, Clone)]
pub struct Example {
    pub file: File,
    /// Lower case, as in the file (`post`).
    pub method: String,
    /// The path template as in the file (`/pvt/orders/{orderId}/cancel`).
    pub path: String,
    pub part: Part,
    pub value: Value,
}

/// The four files, loaded, patched (or not) and rewritten; validators compiled on demand.
pub struct Schemas {
    /// Per file: the document after the overlay (paths keep OpenAPI form).
    docs: Vec<Value>,
    /// Per file: `components` after the overlay and the rewrite.
    components: Vec<Value>,
    cache: Mutex<HashMap<(File, String), Arc<Validator>>>,
}

/// The directory of the VTEX files: `$OFFERNET_VTEX_OPENAPI_DIR`, else `shared/vtex-openapi` in
/// the parent directory of the workspace.
pub fn openapi_dir() -> PathBuf {
    match std::env::var_os(OPENAPI_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vtex-openapi"),
    }
}

impl Schemas {
    /// The files with this crate's overlay: what offernet's traffic must satisfy.
    pub fn load() -> Result<Schemas> {
        Schemas::load_with(Some(&Overlay::published()?))
    }

    /// The files as VTEX publishes them (for the tests that show each patch is needed).
    pub fn load_without_overlay() -> Result<Schemas> {
        Schemas::load_with(None)
    }

    /// The files from [`openapi_dir`] with the given overlay.
    pub fn load_with(overlay: Option<&Overlay>) -> Result<Schemas> {
        Schemas::load_from(&openapi_dir(), overlay)
    }

    /// The files from `dir` with the given overlay.
    pub fn load_from(dir: &Path, overlay: Option<&Overlay>) -> Result<Schemas> {
        let mut docs = Vec::new();
        let mut components = Vec::new();
        for file in File::ALL {
            let mut doc = read_json(&dir.join(file.file_name()))?;
            if let Some(overlay) = overlay {
                overlay.apply(file.file_name(), &mut doc)?;
            }
            let mut comps = doc.get("components").cloned().unwrap_or_else(|| json!({}));
            if let Some(schemas) = comps.get_mut("schemas") {
                rewrite::components(schemas);
            }
            components.push(comps);
            docs.push(doc);
        }
        Ok(Schemas { docs, components, cache: Mutex::new(HashMap::new()) })
    }

    /// One shared instance of [`Schemas::load`] for the whole process (the fakes use it).
    pub fn shared() -> Result<&'static Schemas> {
        static SHARED: OnceLock<std::result::Result<Schemas, Error>> = OnceLock::new();
        SHARED.get_or_init(Schemas::load).as_ref().map_err(Clone::clone)
    }

    /// The names of `file`'s component schemas.
    pub fn schema_names(&self, file: File) -> Vec<String> {
        let schemas = self.components[file.index()].get("schemas").and_then(Value::as_object);
        schemas.map(|m| m.keys().cloned().collect()).unwrap_or_default()
    }

    /// Validates `value` against `#/components/schemas/{schema}` of `file`.
    pub fn validate(&self, file: File, schema: &str, value: &Value) -> std::result::Result<(), Vec<String>> {
        if self.components[file.index()].pointer(&format!("/schemas/{}", escape(schema))).is_none() {
            return Err(vec![format!("{} has no schema {schema:?}", file.file_name())]);
        }
        let validator = self.validator(file, format!("#/components/schemas/{}", escape(schema)), None)?;
        check(&validator, value)
    }

    /// Validates `value` against the schema of an operation's request body or answer, as the
    /// file's `paths` name it (`method` any case; `path` the template, e.g. `/pvt/orders`).
    pub fn validate_operation(
        &self,
        file: File,
        method: &str,
        path: &str,
        part: Part,
        value: &Value,
    ) -> std::result::Result<(), Vec<String>> {
        let schema = self.operation_schema(file, method, path, part)?;
        let key = format!("{} {path} {part:?}", method.to_ascii_lowercase());
        let validator = self.validator(file, key, Some(schema))?;
        check(&validator, value)
    }

    /// Every media-type example that has a schema beside it, in file order.
    pub fn examples(&self) -> Vec<Example> {
        let mut out = Vec::new();
        for file in File::ALL {
            let paths = self.docs[file.index()]["paths"].as_object().cloned().unwrap_or_default();
            for (path, item) in paths {
                for (method, op) in item.as_object().into_iter().flatten() {
                    collect_examples(file, &path, method, op, &mut out);
                }
            }
        }
        out
    }

    fn operation_schema(
        &self,
        file: File,
        method: &str,
        path: &str,
        part: Part,
    ) -> std::result::Result<Value, Vec<String>> {
        let op = &self.docs[file.index()]["paths"][path][method.to_ascii_lowercase()];
        let body = match part {
            Part::Request => &op["requestBody"],
            Part::Response(status) => &op["responses"][status.to_string()],
        };
        let content = body["content"].as_object();
        let media = content.and_then(|c| c.get("application/json").or_else(|| c.values().next()));
        match media.and_then(|m| m.get("schema")) {
            Some(schema) => {
                let mut schema = schema.clone();
                rewrite::schema(&mut schema);
                Ok(schema)
            }
            None => Err(vec![format!("{}: no schema for {method} {path} {part:?}", file.file_name())]),
        }
    }

    fn validator(
        &self,
        file: File,
        key: String,
        operation: Option<Value>,
    ) -> std::result::Result<Arc<Validator>, Vec<String>> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = cache.get(&(file, key.clone())) {
            return Ok(v.clone());
        }
        let mut root = json!({"components": self.components[file.index()].clone()});
        match operation {
            Some(schema) => {
                root["$ref"] = json!("#/x-operation");
                root["x-operation"] = schema;
            }
            None => root["$ref"] = json!(key),
        }
        let built = jsonschema::draft4::options().should_ignore_unknown_formats(true).build(&root);
        let validator = Arc::new(built.map_err(|e| vec![format!("{}: {key}: bad schema: {e}", file.file_name())])?);
        cache.insert((file, key), validator.clone());
        Ok(validator)
    }
}

fn check(validator: &Validator, value: &Value) -> std::result::Result<(), Vec<String>> {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(MAX_VIOLATIONS)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!("{}: {e}", if at.is_empty() { "/" } else { &at })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn collect_examples(file: File, path: &str, method: &str, op: &Value, out: &mut Vec<Example>) {
    if !matches!(method, "get" | "put" | "post" | "delete" | "patch") {
        return;
    }
    let mut bodies = vec![(Part::Request, &op["requestBody"])];
    for (status, answer) in op["responses"].as_object().into_iter().flatten() {
        if let Ok(code) = status.parse() {
            bodies.push((Part::Response(code), answer));
        }
    }
    for (part, body) in bodies {
        for media in body["content"].as_object().into_iter().flat_map(|c| c.values()) {
            if let (Some(_), Some(value)) = (media.get("schema"), media.get("example")) {
                let (method, path) = (method.to_string(), path.to_string());
                out.push(Example { file, method, path, part, value: value.clone() });
            }
        }
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let meta =
        std::fs::metadata(path).map_err(|e| Error::new(format!("{}: {e} (set {OPENAPI_DIR_ENV})", path.display())))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::new(format!("{}: {} bytes (at most {MAX_FILE_BYTES})", path.display(), meta.len())));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| Error::new(format!("{}: not JSON: {e}", path.display())))
}

/// A JSON pointer token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
