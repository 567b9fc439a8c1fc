//! Hostile manifests: binary, non-UTF-8, deep nesting, alias bombs, oversize files. Each ends
//! in a clear, located error (or a correct result), never a panic, a stall or an explosion.

use super::*;

fn load_bytes(bytes: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hostile.yaml");
    std::fs::write(&path, bytes).expect("write");
    let errors = manifest::load(std::slice::from_ref(&path)).expect_err("hostile input fails");
    let prefix = format!("{}/", dir.path().display());
    lines(&errors.diagnostics)
        .into_iter()
        .map(|l| l.replace(&prefix, ""))
        .collect()
}

#[test]
fn binary_and_non_utf8_files_are_refused_with_the_file_and_position() {
    assert_eq!(
        load_bytes(b"version: 1\n\x7fELF\x02\x01\x01\x00\x00"),
        vec![
            "hostile.yaml:2:8: error: the file looks binary (it contains a NUL byte); a manifest \
             is YAML text"
        ]
    );
    assert_eq!(
        load_bytes(b"version: 1\nassociations: caf\xe9\n"),
        vec![
            "hostile.yaml:2:18: error: the file is not valid UTF-8 (byte `0xe9`); save it as UTF-8"
        ]
    );
    assert_eq!(
        load_bytes(b""),
        vec![
            "hostile.yaml:1:1: error: the file is empty; a manifest needs `version` and \
             `associations`"
        ]
    );
}

#[test]
fn a_byte_order_mark_is_accepted() {
    assert!(
        parse("\u{feff}version: 1\nassociations: [{product: p, artifact: a, action: b}]\n").is_ok()
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow_or_a_stall() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(
        errors(&deep),
        vec!["m.yaml:1:256: error: invalid YAML: nesting is too deep (recursion limit exceeded)"]
    );
    // Unclosed flow mappings: libyaml alone would take seconds on this.
    let started = std::time::Instant::now();
    let unclosed = format!("version: 1\nassociations: {}", "{a: ".repeat(50_000));
    assert_eq!(
        errors(&unclosed),
        vec!["m.yaml:2:1035: error: invalid YAML: nesting is too deep (recursion limit exceeded)"]
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // Nesting libyaml still parses but serde_yaml refuses.
    let moderate = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert_eq!(
        errors(&moderate),
        vec![
            "m.yaml:1:129: error: invalid YAML: recursion limit exceeded at line 1 column 129 \
             (nesting is too deep)"
        ]
    );
}

#[test]
fn an_alias_bomb_is_an_error_not_an_explosion() {
    let mut bomb =
        String::from("version: 1\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..12 {
        let previous = format!("*a{}", level - 1);
        let items = [previous.as_str(); 9].join(", ");
        bomb.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    bomb.push_str("associations: *a11\n");
    let reported = errors(&bomb);
    assert_eq!(reported.len(), 1);
    assert!(
        reported[0].contains("repetition limit exceeded (aliases expand to too many values)"),
        "{reported:?}"
    );
}

#[test]
fn a_file_over_64_mib_is_refused() {
    let mut huge = b"version: 1\n#".to_vec();
    huge.resize(manifest::MAX_FILE_BYTES as usize + 1, b'x');
    assert_eq!(
        load_bytes(&huge),
        vec!["hostile.yaml:1:1: error: the file is larger than 64 MiB, the limit for a manifest"]
    );
}

#[test]
fn aliases_tags_and_flow_style_keep_positions_and_alias_errors_show_at_the_alias() {
    let text = "version: 1\nassociations:\n  - {product: &p \"p/1\", artifact: &a pa-1, action: x}\n  \
                - product: *p\n    artifact: *a\n    actions: [y, !custom z]\n";
    assert_eq!(
        errors(text),
        vec![
            "m.yaml:3:18: error: invalid product id `p/1`: id contains '/'; ids hold only \
             letters, digits, `_` and `-`",
            "m.yaml:4:14: error: invalid product id `p/1`: id contains '/'; ids hold only \
             letters, digits, `_` and `-`",
            "m.yaml:6:26: error: each item of `actions` must be an id string, found a value \
             tagged `!custom`",
        ]
    );
}

#[test]
fn an_id_tagged_other_than_str_is_an_error_at_the_id() {
    // `!!binary` would otherwise hand its base64 text over as the id.
    let text = "version: 1\nassociations:\n  - product: !!binary aGVsbG8=\n    artifact: !!str pa-1\n    \
                actions: [!!int 12, act-1]\n";
    assert_eq!(
        errors(text),
        vec![
            "m.yaml:3:23: error: `product` must be an id string, found a value tagged `!!binary`",
            "m.yaml:5:21: error: each item of `actions` must be an id string, found number `12`",
        ]
    );
    // `!!str` is a string: the same entry with plain ids is valid.
    assert!(
        parse("version: 1\nassociations: [{product: !!str p-1, artifact: a, action: b}]\n").is_ok()
    );
}
