//! Property tests over the manifest reader (proptest, bounded so they take seconds): whatever the
//! bytes, loading never panics and every error points at `file:line:col` inside the file; a
//! manifest generated from random ids, forms and styles reads back as exactly the triples it
//! declares. Hostile inputs too big for properties (50 MB, thousands of files, one bad file among
//! good ones through the binary) are in [`hostile`]; the hand-picked ones (alias bombs, deep
//! nesting, binary, non-UTF-8) are in `manifest.rs`.
//!
//! Case counts are fixed (not taken from `PROPTEST_CASES`) so TESTING.md's figures stay true.

mod hostile;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use sc_assoc::manifest::{self, DesiredSet, ManifestErrors};
use sc_assoc::triple::{Triple, check_id};
use std::collections::BTreeSet;
use std::path::Path;

/// Cases per property; TESTING.md quotes these.
pub const BYTES_CASES: u32 = 1_000;
pub const MUTATION_CASES: u32 = 2_000;
pub const ROUND_TRIP_CASES: u32 = 500;

fn config(cases: u32) -> Config {
    Config {
        cases,
        // A failure prints its minimal input; nothing is written into the source tree.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        // The same cases on every CI run: a red build always means a change, never bad luck.
        // Set the seed to something else locally to explore further.
        rng_seed: RngSeed::Fixed(0x5C_A550C),
        ..Config::default()
    }
}

/// Lines as YAML (and editors) count them: `\r\n`, `\n` and a lone `\r` each end one.
fn yaml_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(end) = rest.find(['\n', '\r']) {
        lines.push(&rest[..end]);
        let width = if rest[end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        rest = &rest[end + width..];
    }
    lines.push(rest);
    lines
}

/// Lines split at `\n` only: how the reader locates encoding errors (see
/// `fuzz::hostile::a_lone_carriage_return_ends_a_line_for_encoding_errors_too`).
fn lf_lines(text: &str) -> Vec<&str> {
    text.split('\n').collect()
}

/// True if `location` is a character of `lines`, the end of one, or the end of input of a
/// file without a final newline (libyaml reports that as the start of the line after the last).
fn inside(lines: &[&str], location: &manifest::Location) -> bool {
    let (line, column) = (location.line, location.column);
    if line == lines.len() + 1 {
        return column == 1;
    }
    line >= 1 && line <= lines.len() && column <= lines[line - 1].chars().count() + 1
}

/// The checks every outcome must pass: errors are located inside `text`; a success holds only
/// ids the API accepts.
fn assert_well_formed(file: &Path, text: &str, result: &Result<DesiredSet, ManifestErrors>) {
    // Every failure message carries the input, so a shrunk case can be read off the log.
    let input = format!("\n--- input\n{text:?}");
    match result {
        Ok(set) => {
            for triple in set.triples.keys() {
                for id in [&triple.product, &triple.artifact, &triple.action] {
                    assert!(check_id(id).is_ok(), "accepted a bad id {id:?}{input}");
                }
            }
        }
        Err(errors) => {
            assert!(errors.error_count() > 0, "an Err without an error{input}");
            for error in errors.errors() {
                let location = error
                    .location
                    .as_ref()
                    .unwrap_or_else(|| panic!("unlocated error: {error}{input}"));
                assert_eq!(
                    &*location.file,
                    std::path::Path::new(file),
                    "{error}{input}"
                );
                assert!(location.line >= 1 && location.column >= 1, "{error}{input}");
                assert!(
                    inside(&yaml_lines(text), location) || inside(&lf_lines(text), location),
                    "{error}: not a position in the file{input}"
                );
            }
        }
    }
}

/// Bytes that are mostly YAML punctuation and manifest words, so the parser goes deep rather
/// than stopping at the first random byte.
fn yamlish_bytes() -> impl Strategy<Value = Vec<u8>> {
    const PIECES: &[&str] = &[
        "version: 1\n",
        "associations:\n",
        "  - ",
        "product: ",
        "artifact: ",
        "action: ",
        "artifacts: ",
        "actions: ",
        "prod-a",
        "pa-1",
        "act-x",
        "[",
        "]",
        "{",
        "}",
        ", ",
        ": ",
        "\n",
        "  ",
        "\t",
        "&a ",
        "*a",
        "!t ",
        "#",
        "'",
        "\"",
        "|",
        ">",
        "---\n",
        "? ",
        "~",
        "accept_language: jp\n",
        "é",
        "\u{feff}",
        "\r\n",
        "%YAML 1.2\n",
        "<<: *a\n",
    ];
    let piece = prop_oneof![
        3 => proptest::sample::select(PIECES).prop_map(|p| p.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 1..4),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(config(BYTES_CASES))]

    #[test]
    fn any_bytes_from_a_file_load_without_panic_and_every_error_is_located(
        bytes in prop_oneof![proptest::collection::vec(any::<u8>(), 0..400), yamlish_bytes()]
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.yaml");
        std::fs::write(&path, &bytes).unwrap();
        let result = manifest::load(std::slice::from_ref(&path));
        // The reader refuses non-UTF-8 before parsing; for positions, any decoding will do.
        assert_well_formed(&path, &String::from_utf8_lossy(&bytes), &result);
    }
}

/// A manifest entry: a product with one or more artifacts and actions, in single or list form.
#[derive(Debug, Clone)]
struct Entry {
    product: String,
    artifacts: Vec<String>,
    actions: Vec<String>,
    /// Write `artifact:`/`action:` when there is one, `artifacts: [..]` otherwise.
    single_form: bool,
    flow: bool,
    quoted: bool,
}

fn id(prefix: &'static str) -> impl Strategy<Value = String> {
    const BODY: &[char] = &['a', 'b', 'z', 'A', 'Q', 'Z', '0', '1', '9', '_', '-'];
    proptest::collection::vec(proptest::sample::select(BODY), 1..8)
        .prop_map(move |body| format!("{prefix}{}", body.into_iter().collect::<String>()))
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        // Small pools so entries overlap and merge; at most 6 actions keeps every artifact
        // under the 25-action quota however entries combine.
        proptest::sample::select(vec!["prod-a", "prod-b", "prod-c"]),
        proptest::collection::vec(id("pa-"), 1..4),
        proptest::collection::btree_set(
            proptest::sample::select(vec!["act-1", "act-2", "act-3", "act-4", "act-5", "act-6"]),
            1..4,
        ),
        any::<(bool, bool, bool)>(),
    )
        .prop_map(
            |(product, artifacts, actions, (single_form, flow, quoted))| Entry {
                product: product.to_string(),
                artifacts,
                actions: actions.into_iter().map(str::to_string).collect(),
                single_form,
                flow,
                quoted,
            },
        )
}

impl Entry {
    fn triples(&self) -> impl Iterator<Item = Triple> + '_ {
        self.artifacts.iter().flat_map(move |artifact| {
            self.actions
                .iter()
                .map(move |action| Triple::new(&self.product, artifact, action))
        })
    }

    fn yaml(&self) -> String {
        let q = |s: &str| {
            if self.quoted {
                format!("'{s}'")
            } else {
                s.to_string()
            }
        };
        let field = |one: &str, many: &str, ids: &[String]| {
            if self.single_form && ids.len() == 1 {
                (one.to_string(), q(&ids[0]))
            } else {
                let items: Vec<String> = ids.iter().map(|s| q(s)).collect();
                (many.to_string(), format!("[{}]", items.join(", ")))
            }
        };
        let fields = [
            ("product".to_string(), q(&self.product)),
            field("artifact", "artifacts", &self.artifacts),
            field("action", "actions", &self.actions),
        ];
        if self.flow {
            let inner: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            format!("  - {{{}}}\n", inner.join(", "))
        } else {
            let mut text = String::new();
            for (i, (k, v)) in fields.iter().enumerate() {
                text.push_str(if i == 0 { "  - " } else { "    " });
                text.push_str(&format!("{k}: {v}\n"));
            }
            text
        }
    }
}

fn manifest_of(entries: &[Entry]) -> String {
    let mut text = String::from("version: 1\nassociations:\n");
    for entry in entries {
        text.push_str(&entry.yaml());
    }
    text
}

proptest! {
    #![proptest_config(config(ROUND_TRIP_CASES))]

    #[test]
    fn a_generated_manifest_reads_back_as_exactly_its_triples(
        entries in proptest::collection::vec(entry(), 1..8)
    ) {
        let text = manifest_of(&entries);
        let expected: BTreeSet<Triple> = entries.iter().flat_map(Entry::triples).collect();
        let set = manifest::parse_str(Path::new("m.yaml"), &text)
            .unwrap_or_else(|e| panic!("{text}\n{e}"));
        let read: BTreeSet<Triple> = set.triples.keys().cloned().collect();
        prop_assert_eq!(read, expected, "{}", text);
    }
}

/// One edit to a valid manifest's characters.
#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, &'static str),
    Delete(usize, usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    const INSERTS: &[&str] = &[
        ":",
        "- ",
        "-",
        "[",
        "]",
        "{",
        "}",
        "&a ",
        "*a",
        "*b",
        "!tag ",
        "#",
        "'",
        "\"",
        "\n",
        "\t",
        "  ",
        "|",
        ">",
        "%",
        "@",
        "`",
        ",",
        "? ",
        "\u{feff}",
        "é",
        "\u{0}",
        "\r",
        "version: 2\n",
        "associations:\n",
        "---\n",
        "...\n",
        "<<: *a\n",
        "product: ",
        "~",
        "null",
        "actions: []",
        "artifact: pa-x\n",
        "x",
    ];
    prop_oneof![
        4 => (any::<usize>(), proptest::sample::select(INSERTS))
            .prop_map(|(at, s)| Mutation::Insert(at, s)),
        2 => (any::<usize>(), 1..12usize).prop_map(|(at, n)| Mutation::Delete(at, n)),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for m in mutations {
        match *m {
            Mutation::Insert(at, s) => {
                let at = at % (chars.len() + 1);
                chars.splice(at..at, s.chars());
            }
            Mutation::Delete(at, n) if !chars.is_empty() => {
                let at = at % chars.len();
                chars.drain(at..(at + n).min(chars.len()));
            }
            Mutation::Delete(..) => {}
            Mutation::DuplicateLine(i) | Mutation::SwapLines(i, _) => {
                let text: String = chars.iter().collect();
                let mut lines: Vec<&str> = text.split('\n').collect();
                let i = i % lines.len();
                match *m {
                    Mutation::SwapLines(_, j) => {
                        let j = j % lines.len();
                        lines.swap(i, j);
                    }
                    _ => lines.insert(i, lines[i]),
                }
                chars = lines.join("\n").chars().collect();
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(config(MUTATION_CASES))]

    #[test]
    fn a_mutated_manifest_never_panics_and_every_error_is_located(
        entries in proptest::collection::vec(entry(), 1..5),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let text = mutate(&manifest_of(&entries), &mutations);
        let file = Path::new("m.yaml");
        let result = manifest::parse_str(file, &text);
        assert_well_formed(file, &text, &result);
    }
}
