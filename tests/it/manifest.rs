//! Manifest parsing and validation, read as a spec: what a manifest declares, how files merge,
//! and how every kind of mistake is reported — all at once, each at `file:line:col`.

use sc_assoc::manifest::raw::RawManifest;
use sc_assoc::manifest::{self, AcceptLanguage, DesiredSet, Location, ManifestErrors, Severity};
use sc_assoc::triple::Triple;
use std::path::{Path, PathBuf};

mod hostile;
mod targeted;
mod targets;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifests")
}

fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

/// Diagnostics as printed, with the fixtures directory cut from paths so expectations are short.
fn lines(diagnostics: &[manifest::Diagnostic]) -> Vec<String> {
    let prefix = format!("{}/", fixtures().display());
    diagnostics
        .iter()
        .map(|d| d.to_string().replace(&prefix, ""))
        .collect()
}

fn parse(text: &str) -> Result<DesiredSet, ManifestErrors> {
    manifest::parse_str(Path::new("m.yaml"), text)
}

/// The printed diagnostics of a manifest that must fail.
fn errors(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(set) => panic!("expected errors, got {set:?}"),
        Err(errors) => lines(&errors.diagnostics),
    }
}

fn triples(set: &DesiredSet) -> Vec<(&str, &str, &str)> {
    set.triples
        .keys()
        .map(|t| (t.product.as_str(), t.artifact.as_str(), t.action.as_str()))
        .collect()
}

// --- What a manifest declares -------------------------------------------------------------------

#[test]
fn the_issue_example_declares_one_triple_plus_two_by_two() {
    let set = manifest::load(&[fixture("example.yaml")]).expect("valid");
    assert_eq!(
        triples(&set),
        vec![
            ("prod-abcdzk7xy33qa", "pa-1", "act-1"),
            ("prod-abcdzk7xy33qa", "pa-1", "act-2"),
            ("prod-abcdzk7xy33qa", "pa-2", "act-1"),
            ("prod-abcdzk7xy33qa", "pa-2", "act-2"),
            (
                "prod-abcdzk7xy33qa",
                "pa-4abcdjnxjj6ne",
                "act-fs7abcd89wxyz"
            ),
        ]
    );
    assert_eq!(set.accept_language, Some(AcceptLanguage::En));
    assert_eq!(set.files, vec![fixture("example.yaml")]);
    assert!(set.warnings.is_empty());
}

#[test]
fn each_triple_is_located_at_its_action_id() {
    let set = parse(
        "version: 1\nassociations:\n  - product: prod-1\n    artifact: pa-1\n    action: act-1\n",
    )
    .expect("valid");
    let triple = Triple::new("prod-1", "pa-1", "act-1");
    assert_eq!(set.triples[&triple], Location::new("m.yaml", 5, 13));
    assert_eq!(set.accept_language, None);
}

#[test]
fn single_and_list_forms_mix_across_axes() {
    let set = parse(
        "version: 1\nassociations:\n\
         \x20 - {product: p, artifact: pa-1, actions: [a-1, a-2]}\n\
         \x20 - {product: p, artifacts: [pa-2, pa-3], action: a-3}\n",
    )
    .expect("valid");
    assert_eq!(
        triples(&set),
        vec![
            ("p", "pa-1", "a-1"),
            ("p", "pa-1", "a-2"),
            ("p", "pa-2", "a-3"),
            ("p", "pa-3", "a-3"),
        ]
    );
}

// --- Several files ------------------------------------------------------------------------------

#[test]
fn a_directory_loads_its_files_then_its_subdirectories_in_name_order() {
    let set = manifest::load(&[fixture("merge")]).expect("valid");
    // `.hidden.yaml` and `notes.txt` are not manifests.
    assert_eq!(
        set.files,
        vec![
            fixture("merge/00-root.yaml"),
            fixture("merge/team-a/web.yml"),
            fixture("merge/team-a/nested/db.yaml"),
            fixture("merge/team-b/queue.yaml"),
        ]
    );
    assert_eq!(set.triples.len(), 6);
    assert!(set.triples.keys().all(|t| t.product != "hidden"));
    // One file sets a language; the others leave it open.
    assert_eq!(set.accept_language, Some(AcceptLanguage::Jp));
}

#[test]
fn files_and_directories_merge_and_a_file_named_twice_is_read_once() {
    let set = manifest::load(&[
        fixture("merge/team-b/queue.yaml"),
        fixture("example.yaml"),
        fixture("merge/team-b"),
    ])
    .expect("valid");
    assert_eq!(
        set.files,
        vec![fixture("merge/team-b/queue.yaml"), fixture("example.yaml")]
    );
    assert_eq!(set.triples.len(), 6);
    assert!(set.warnings.is_empty());
}

#[test]
fn a_triple_declared_twice_is_kept_once_with_a_warning_naming_both_places() {
    let set = manifest::load(&[fixture("duplicates")]).expect("duplicates only warn");
    assert_eq!(set.triples.len(), 3);
    assert_eq!(
        lines(&set.warnings),
        vec![
            "duplicates/second.yaml:5:13: warning: association `prod-1 / pa-1 / act-2` is \
             declared twice; also at duplicates/first.yaml:5:22"
        ]
    );
    let first = &set.triples[&Triple::new("prod-1", "pa-1", "act-2")];
    assert_eq!(&*first.file, fixture("duplicates/first.yaml").as_path());
}

#[test]
fn a_triple_repeated_within_one_file_warns_too() {
    let set = parse("version: 1\nassociations:\n  - {product: p, artifact: a, actions: [x, x]}\n")
        .expect("valid");
    assert_eq!(
        lines(&set.warnings),
        vec![
            "m.yaml:3:44: warning: association `p / a / x` is declared twice; also at m.yaml:3:41"
        ]
    );
}

#[test]
fn warnings_are_still_reported_when_loading_fails() {
    let errors = manifest::load(&[fixture("duplicates"), fixture("language")])
        .expect_err("languages conflict");
    let severities: Vec<Severity> = errors.diagnostics.iter().map(|d| d.severity).collect();
    assert_eq!(
        severities,
        // first/second, first/english and first/japanese share triples.
        vec![
            Severity::Warning,
            Severity::Warning,
            Severity::Error,
            Severity::Warning
        ]
    );
    assert_eq!(errors.error_count(), 1);
    assert!(errors.to_string().ends_with("\n1 error"));
}

#[test]
fn conflicting_languages_are_an_error_naming_both_files() {
    let errors = manifest::load(&[fixture("language")]).expect_err("conflict");
    assert_eq!(
        lines(&errors.diagnostics),
        vec![
            "language/japanese.yaml:2:18: error: `accept_language` is `jp` here but `en` at \
             language/english.yaml:2:18; all manifests in one run must agree"
        ]
    );
}

#[test]
fn an_empty_directory_or_a_missing_path_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("readme.md"), "no manifests here").expect("write");
    let missing = dir.path().join("missing.yaml");
    let errors = manifest::load(&[dir.path().to_path_buf(), missing.clone()]).expect_err("empty");
    let messages: Vec<&str> = errors.errors().map(|d| d.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].starts_with("no `*.yaml` or `*.yml` manifest files in directory"));
    assert!(messages[1].starts_with(&format!("cannot read `{}`", missing.display())));
    assert!(manifest::load(&[]).is_err());
}

// --- Every problem, at its place ----------------------------------------------------------------

#[test]
fn every_error_in_a_file_is_reported_at_once_each_at_its_position() {
    let errors = manifest::load(&[fixture("errors/many.yaml")]).expect_err("invalid");
    assert_eq!(
        lines(&errors.diagnostics),
        vec![
            "errors/many.yaml:2:18: error: `accept_language` must be one of `en`, `jp`, `zh`, \
             found string `fr`",
            "errors/many.yaml:6:5: error: both `artifact` and `artifacts` are given; use one or \
             the other",
            "errors/many.yaml:8:14: error: invalid product id `prod 2`: id contains ' '; ids \
             hold only letters, digits, `_` and `-`",
            "errors/many.yaml:9:16: error: `artifacts` is empty; list at least one id",
            "errors/many.yaml:10:22: error: each item of `actions` must be an id string, found \
             number `42`",
            "errors/many.yaml:10:26: error: invalid action id `act/3`: id contains '/'; ids hold \
             only letters, digits, `_` and `-`",
            "errors/many.yaml:11:5: error: unknown key `produkt`; expected one of `product`, \
             `artifact`, `artifacts`, `action`, `actions`; did you mean `product`?",
            "errors/many.yaml:11:5: error: missing `product`",
            "errors/many.yaml:11:5: error: missing `action` or `actions`",
            "errors/many.yaml:13:5: error: an association must be a mapping with `product`, \
             `artifact` or `artifacts`, and `action` or `actions`; found string `just a string`",
            "errors/many.yaml:17:5: error: unknown key `note`; expected one of `product`, \
             `artifact`, `artifacts`, `action`, `actions`",
        ]
    );
    assert!(errors.to_string().ends_with("\n11 errors"));
}

#[test]
fn yaml_syntax_errors_are_located() {
    assert_eq!(
        errors("version: 1\nassociations: [\n  {product: p\n"),
        vec![
            "m.yaml:4:1: error: invalid YAML: did not find expected ',' or '}' at line 4 column \
             1, while parsing a flow mapping at line 3 column 3"
        ]
    );
    assert_eq!(
        errors("version: 1\n  associations: []\n"),
        vec![
            "m.yaml:2:15: error: invalid YAML: mapping values are not allowed in this context at \
             line 2 column 15"
        ]
    );
}

#[test]
fn a_key_given_twice_is_reported_at_the_second() {
    assert_eq!(
        errors(
            "version: 1\nassociations:\n  - product: p\n    artifact: a\n    action: x\n    \
             product: q\n"
        ),
        vec!["m.yaml:6:5: error: duplicate key `product`; it is first given at m.yaml:3:5"]
    );
}

#[test]
fn wrong_types_are_reported_at_the_value() {
    assert_eq!(
        errors(
            "version: \"1\"\naccept_language: [en]\nassociations:\n\
             \x20 - product: {id: p}\n    artifacts: pa-1\n    action: 7\n\
             \x20 - product: p\n    artifact: a\n    actions: true\n"
        ),
        vec![
            "m.yaml:1:10: error: `version` must be the number `1`, found string `1`",
            "m.yaml:2:18: error: `accept_language` must be one of `en`, `jp`, `zh`, found a list",
            "m.yaml:4:14: error: `product` must be an id string or `{name: ...}`, found a \
             mapping with key `id`",
            "m.yaml:5:16: error: `artifacts` must be a list of ids, `all` or `active`, found \
             string `pa-1`; for one artifact write `artifact:`",
            "m.yaml:6:13: error: `action` must be an id string, found number `7`",
            "m.yaml:9:14: error: `actions` must be a list of ids, found boolean `true`",
        ]
    );
    assert_eq!(
        errors("version: 1\nassociations: {product: p}\n"),
        vec!["m.yaml:2:15: error: `associations` must be a list of associations, found a mapping"]
    );
}

#[test]
fn a_key_left_without_a_value_is_an_error_not_an_absent_key() {
    assert_eq!(
        errors("version: 1\nassociations:\n  - product: p\n    artifact:\n    action: a\n"),
        vec!["m.yaml:4:5: error: `artifact` must be an id string, found null"]
    );
}

#[test]
fn missing_keys_are_reported_where_they_belong() {
    assert_eq!(
        errors("accept_language: zh\n"),
        vec![
            "m.yaml:1:1: error: missing `version`; this format is version `1`",
            "m.yaml:1:1: error: missing `associations` (or `actions`)",
        ]
    );
    assert_eq!(
        errors("version: 1\nassociations:\n  - {}\n  - action: a\n"),
        vec![
            "m.yaml:3:5: error: missing `product`",
            "m.yaml:3:5: error: missing `artifact` or `artifacts`",
            "m.yaml:3:5: error: missing `action` or `actions`",
            "m.yaml:4:5: error: missing `product`",
            "m.yaml:4:5: error: missing `artifact` or `artifacts`",
        ]
    );
}

#[test]
fn unknown_keys_are_reported_at_the_key_with_a_suggestion_when_close() {
    assert_eq!(
        errors(
            "version: 1\nassociation: []\nassociations:\n  - product: p\n    artifcts: [a]\n    \
             action: x\n    3: y\n"
        ),
        vec![
            "m.yaml:2:1: error: unknown key `association`; expected one of `version`, \
             `accept_language`, `targets`, `actions`, `associations`; did you mean `associations`?",
            // Reports are ordered by position: the entry's missing key comes before its keys.
            "m.yaml:4:5: error: missing `artifact` or `artifacts`",
            "m.yaml:5:5: error: unknown key `artifcts`; expected one of `product`, `artifact`, \
             `artifacts`, `action`, `actions`; did you mean `artifacts`?",
            "m.yaml:7:5: error: keys must be strings, found number `3`",
        ]
    );
}

#[test]
fn ids_must_match_the_api_pattern_and_length() {
    let long = "a".repeat(101);
    let text = format!(
        "version: 1\nassociations:\n  - product: \"\"\n    artifacts: [pa-1, \"pa 2\", {long}]\n    \
         action: act-ü\n"
    );
    assert_eq!(
        errors(&text),
        vec![
            "m.yaml:3:14".to_string() + ": error: empty product id",
            "m.yaml:4:23: error: invalid artifact id `pa 2`: id contains ' '; ids hold only \
             letters, digits, `_` and `-`"
                .to_string(),
            format!(
                "m.yaml:4:31: error: invalid artifact id `{}…`: id is 101 characters long; the \
                 API allows at most 100",
                "a".repeat(60)
            ),
            "m.yaml:5:13: error: invalid action id `act-ü`: id contains 'ü'; ids hold only \
             letters, digits, `_` and `-`"
                .to_string(),
        ]
    );
    // Exactly 100 characters is fine.
    let ok = format!(
        "version: 1\nassociations:\n  - {{product: {}, artifact: a, action: b}}\n",
        "p".repeat(100)
    );
    assert!(parse(&ok).is_ok());
}

#[test]
fn empty_lists_are_errors_but_an_empty_action_list_declares_an_artifact_with_none() {
    assert_eq!(
        errors("version: 1\nassociations: []\n"),
        vec!["m.yaml:2:15: error: `associations` is empty; declare at least one"]
    );
    assert_eq!(
        errors("version: 1\nassociations:\n  - {product: p, artifacts: [], actions: [x]}\n"),
        vec!["m.yaml:3:29: error: `artifacts` is empty; list at least one id"]
    );
    // No triple, but the artifact is declared (in scope for --prune).
    let set = parse("version: 1\nassociations:\n  - {product: p, artifacts: [a], actions: []}\n")
        .expect("an artifact declared with no action");
    assert!(set.triples.is_empty());
    assert!(
        set.places
            .artifacts
            .contains_key(&("p".to_string(), "a".to_string()))
    );
}

#[test]
fn only_version_1_is_understood() {
    // Entries of an unknown version are not judged: its format may differ.
    assert_eq!(
        errors("version: 2\nassociations:\n  - {products: [p]}\n"),
        vec![
            "m.yaml:1:10: error: unsupported manifest version `2`; this sc-assoc reads version `1`"
        ]
    );
    assert_eq!(
        errors("version: -1\nassociations: [{product: p, artifact: a, action: b}]\n"),
        vec!["m.yaml:1:10: error: `version` must be the number `1`, found number `-1`"]
    );
}

#[test]
fn more_than_25_actions_on_one_artifact_is_reported_at_its_first_declaration() {
    let actions = |range: std::ops::Range<usize>| {
        range
            .map(|i| format!("act-{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // 25 is the limit, counted across entries after duplicates merge.
    let manifest = |second: std::ops::Range<usize>| {
        format!(
            "version: 1\nassociations:\n  - {{product: p, artifact: pa-1, actions: [{}]}}\n  \
             - {{product: p, artifacts: [pa-0, pa-1], actions: [{}]}}\n",
            actions(0..20),
            actions(second)
        )
    };
    assert!(parse(&manifest(20..25)).is_ok());
    assert_eq!(
        errors(&manifest(20..26)),
        vec![
            "m.yaml:3:28: error: artifact `pa-1` of product `p` is given 26 service actions; AWS \
             allows at most 25 per provisioning artifact"
        ]
    );
}

#[test]
fn a_top_level_that_is_not_a_manifest_is_an_error() {
    assert_eq!(
        errors("- version: 1\n"),
        vec![
            "m.yaml:1:1: error: the top level must be a mapping with `version` and \
             `associations`, found a list"
        ]
    );
    let empty =
        "m.yaml:1:1: error: the file is empty; a manifest needs `version` and `associations`";
    assert_eq!(errors(""), vec![empty]);
    assert_eq!(errors("# only a comment\n"), vec![empty]);
    assert_eq!(
        errors("version: 1\nassociations: [{product: p, artifact: a, action: b}]\n---\nx: 1\n"),
        vec![
            "m.yaml:3:1: error: a manifest file holds one YAML document; this starts a second one"
        ]
    );
}

// --- Serde types and schema ---------------------------------------------------------------------

#[test]
fn the_serde_types_accept_what_validation_accepts() {
    for name in [
        "example.yaml",
        "merge/00-root.yaml",
        "merge/team-a/web.yml",
        "duplicates/second.yaml",
    ] {
        let text = std::fs::read_to_string(fixture(name)).expect("fixture");
        serde_yaml::from_str::<RawManifest>(&text).expect(name);
        manifest::parse_str(&fixture(name), &text).expect(name);
    }
    for bad in [
        "version: 1\nassociations: [{product: p, artifact: [a], action: b}]\n",
        "version: 1\nassociations: [{product: p, artifact: a, action: b, x: 1}]\n",
        "version: 1\nextra: 1\nassociations: [{product: p, artifact: a, action: b}]\n",
    ] {
        assert!(serde_yaml::from_str::<RawManifest>(bad).is_err(), "{bad}");
        assert!(parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_schema_describes_the_format() {
    let schema = manifest::json_schema();
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["definitions"]["Version"]["const"], 1);
    assert_eq!(schema["definitions"]["Id"]["pattern"], manifest::ID_PATTERN);
    assert_eq!(
        schema["definitions"]["AcceptLanguage"]["enum"],
        serde_json::json!(["en", "jp", "zh"])
    );
    let association = &schema["definitions"]["Association"];
    assert_eq!(association["additionalProperties"], false);
    assert_eq!(
        association["allOf"][0]["oneOf"],
        serde_json::json!([{ "required": ["artifact"] }, { "required": ["artifacts"] }])
    );
}

/// The checked-in schema is what the code generates. Refresh with
/// `SC_ASSOC_BLESS=1 cargo test manifest` (or `sc-assoc schema > schema/manifest.schema.json`).
#[test]
fn the_checked_in_schema_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/manifest.schema.json");
    let generated = manifest::json_schema_string();
    if std::env::var_os("SC_ASSOC_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write schema");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} is stale; refresh it with `SC_ASSOC_BLESS=1 cargo test the_checked_in_schema_is_fresh` \
         or `sc-assoc schema > schema/manifest.schema.json`",
        path.display()
    );
}

// --- Scale --------------------------------------------------------------------------------------

/// 100k triples, one entry each: the most text and the most nodes per triple. Run with
/// `cargo test --release --test it -- --ignored --nocapture manifest::hundred_thousand`.
#[test]
#[ignore = "timing; run in release"]
fn hundred_thousand_triples_validate_quickly() {
    let mut single = String::from("version: 1\nassociations:\n");
    for i in 0..100_000 {
        single.push_str(&format!(
            "  - product: prod-{:05}\n    artifact: pa-{}\n    action: act-{}\n",
            i / 1000,
            (i / 20) % 50,
            i % 20
        ));
    }
    let mut compact = String::from("version: 1\nassociations:\n");
    for p in 0..100 {
        compact.push_str(&format!(
            "  - product: prod-{p}\n    artifacts: [{}]\n    actions: [{}]\n",
            (0..40)
                .map(|a| format!("pa-{a}"))
                .collect::<Vec<_>>()
                .join(", "),
            (0..25)
                .map(|a| format!("act-{a}"))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    for (name, text) in [("single", single), ("compact", compact)] {
        let started = std::time::Instant::now();
        let set = parse(&text).expect("valid");
        let elapsed = started.elapsed();
        assert_eq!(set.triples.len(), 100_000);
        println!("{name}: {} bytes, {elapsed:?}", text.len());
    }
}
