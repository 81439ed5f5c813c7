//! The validator against VTEX's own examples, and the overlay patch by patch: each patch has a
//! fixture (fixtures/patchN-*.json) that fails without the overlay, fails with the overlay minus
//! that patch, and passes with the overlay; control fixtures stay invalid either way.

use std::path::Path;

use offernet_vtex_testkit::{File, Overlay, Part, Schemas};
use serde_json::{json, Value};

/// The media-type examples of the four files that have a schema (design §5: 42).
const EXAMPLES: usize = 42;

struct Fixture {
    name: String,
    file: File,
    patch: Option<u64>,
    method: String,
    path: String,
    part: Part,
    without_overlay: bool,
    with_overlay: bool,
    instance: Value,
}

fn fixtures() -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut names: Vec<_> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
        .into_iter()
        .filter(|n| n.ends_with(".json"))
        .map(|name| {
            let fx: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(&name)).unwrap()).unwrap();
            let file = File::ALL.into_iter().find(|f| fx["file"] == f.file_name());
            let file = file.unwrap_or_else(|| panic!("{name}: file {}", fx["file"]));
            let part = match fx["part"].as_str().unwrap() {
                "request" => Part::Request,
                status => Part::Response(status.parse().unwrap()),
            };
            let verdict = |key: &str| match fx[key].as_str() {
                Some("valid") => true,
                Some("invalid") => false,
                other => panic!("{name}: {key} = {other:?}"),
            };
            Fixture {
                file,
                patch: fx["patch"].as_u64(),
                method: fx["method"].as_str().unwrap().into(),
                path: fx["path"].as_str().unwrap().into(),
                part,
                without_overlay: verdict("without_overlay"),
                with_overlay: verdict("with_overlay"),
                instance: fx["instance"].clone(),
                name,
            }
        })
        .collect()
}

fn is_valid(schemas: &Schemas, fx: &Fixture) -> bool {
    schemas.validate_operation(fx.file, &fx.method, &fx.path, fx.part, &fx.instance).is_ok()
}

#[test]
fn every_example_of_the_four_files_validates_with_and_without_the_overlay() {
    for schemas in [Schemas::load().unwrap(), Schemas::load_without_overlay().unwrap()] {
        let examples = schemas.examples();
        assert_eq!(examples.len(), EXAMPLES);
        for ex in &examples {
            let verdict = schemas.validate_operation(ex.file, &ex.method, &ex.path, ex.part, &ex.value);
            assert_eq!(verdict, Ok(()), "{} {} {} {:?}", ex.file.file_name(), ex.method, ex.path, ex.part);
        }
    }
}

#[test]
fn every_component_schema_compiles() {
    let schemas = Schemas::load().unwrap();
    let mut count = 0;
    for file in File::ALL {
        for name in schemas.schema_names(file) {
            // Anything may be invalid; what matters is that the schema compiled.
            if let Err(errors) = schemas.validate(file, &name, &json!({})) {
                assert!(!errors[0].contains("bad schema"), "{}#{name}: {errors:?}", file.file_name());
            }
            count += 1;
        }
    }
    // 10 + 5 + 24 + 20 published, plus the two objects and the fulfill request of the overlay.
    assert_eq!(count, 62);
}

#[test]
fn each_patch_has_a_fixture_that_needs_exactly_that_patch() {
    let overlay = Overlay::published().unwrap();
    let numbers: Vec<u64> = overlay.patches().iter().map(|p| p.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6], "the five patches of design §5 and SUG's EAN or RefId");
    let plain = Schemas::load_without_overlay().unwrap();
    let patched = Schemas::load().unwrap();
    let all = fixtures();
    for n in numbers {
        let minus = Schemas::load_with(Some(&overlay.without_patch(n))).unwrap();
        let own: Vec<_> = all.iter().filter(|f| f.patch == Some(n)).collect();
        assert!(!own.is_empty(), "patch {n} has no fixture");
        for fx in own {
            assert!(
                !fx.without_overlay && fx.with_overlay,
                "{}: a patch fixture fails without and passes with",
                fx.name
            );
            assert!(!is_valid(&plain, fx), "{} passes without the overlay", fx.name);
            assert!(!is_valid(&minus, fx), "{} passes without patch {n}", fx.name);
            assert!(
                is_valid(&patched, fx),
                "{}: {:?}",
                fx.name,
                patched.validate_operation(fx.file, &fx.method, &fx.path, fx.part, &fx.instance)
            );
        }
    }
}

#[test]
fn control_fixtures_keep_their_verdicts() {
    let plain = Schemas::load_without_overlay().unwrap();
    let patched = Schemas::load().unwrap();
    let controls: Vec<_> = fixtures().into_iter().filter(|f| f.patch.is_none()).collect();
    assert!(controls.len() >= 4);
    for fx in controls {
        assert_eq!(is_valid(&plain, &fx), fx.without_overlay, "{} without the overlay", fx.name);
        assert_eq!(is_valid(&patched, &fx), fx.with_overlay, "{} with the overlay", fx.name);
    }
}

#[test]
fn every_patch_quotes_a_vtex_sentence() {
    for p in Overlay::published().unwrap().patches() {
        assert!(File::ALL.iter().any(|f| f.file_name() == p.file), "patch {}: {}", p.number, p.file);
        assert!(p.because.len() > 40 && p.source.len() > 10, "patch {}", p.number);
    }
}

#[test]
fn schemas_by_name_accept_an_array_placement_only_with_the_overlay() {
    let placement: Value = {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/patch4-array-placement.json"));
        serde_json::from_str::<Value>(&text.unwrap()).unwrap()["instance"].clone()
    };
    assert!(placement.is_array());
    assert_eq!(Schemas::load().unwrap().validate(File::Esf, "orderPlacement", &placement), Ok(()));
    assert!(Schemas::load_without_overlay().unwrap().validate(File::Esf, "orderPlacement", &placement).is_err());
}

#[test]
fn violations_name_the_field_and_unknown_names_are_refused() {
    let schemas = Schemas::load().unwrap();
    let answer = json!({"date": "2019-05-09 15:31:23", "marketplaceOrderId": "1", "orderId": 7, "receipt": null});
    let errors = schemas.validate(File::Esf, "repsonseOrderId", &answer).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("/orderId: "), "{errors:?}");
    let unknown = schemas.validate(File::Esf, "responseOrderId", &answer).unwrap_err();
    assert!(unknown[0].contains("no schema \"responseOrderId\""), "{unknown:?}");
    let no_op = schemas.validate_operation(File::Esf, "get", "/pvt/orders", Part::Request, &answer).unwrap_err();
    assert!(no_op[0].contains("no schema"), "{no_op:?}");
}

#[test]
fn a_bad_overlay_is_refused_with_its_reason() {
    let no_sentence = r#"{"patches": [{"patch": 1, "file": "f", "title": "t", "source": "s", "operations": [{"op": "add", "path": "/a", "value": 1}]}]}"#;
    assert!(Overlay::from_json(no_sentence).unwrap_err().0.contains("`because`"));
    let missing = r#"{"patches": [{"patch": 9, "file": "external-seller-fulfillment.json", "title": "t", "because": "b", "source": "s",
        "operations": [{"op": "replace", "path": "/components/schemas/nope", "value": 1}]}]}"#;
    let overlay = Overlay::from_json(missing).unwrap();
    let err = Schemas::load_with(Some(&overlay)).err().unwrap();
    assert!(err.0.contains("patch 9") && err.0.contains("/components/schemas/nope"), "{err}");
}

#[test]
fn a_missing_directory_is_named_with_the_variable_that_moves_it() {
    let err = Schemas::load_from(Path::new("/nonexistent/vtex-openapi"), None).err().unwrap();
    assert!(err.0.contains("/nonexistent/vtex-openapi/external-seller-fulfillment.json"), "{err}");
    assert!(err.0.contains("OFFERNET_VTEX_OPENAPI_DIR"), "{err}");
}
