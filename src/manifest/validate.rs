//! One file's text to its validated form: YAML syntax, shape, keys, types and ids, with every
//! problem reported at its own line and column. The walk goes over the one-pass [`tree`] (what
//! the document means, and where each part is), and deserializes each field with its type from
//! [`raw`], so accepting a field and the schema's description of it come from the same type.
//!
//! Rules that span files — duplicates, the language, the per-artifact action limit — are
//! checked when files merge, in `merge`. The `targets:` section is walked by the same checker,
//! with its rules in `targets`.

use super::actions::ActionEntry;
use super::declaration::Ref;
use super::diagnostic::{Diagnostic, Location};
use super::lines::Lines;
use super::raw::{
    ASSOCIATION_KEYS, AcceptLanguage, ArtifactSelector, MANIFEST_KEYS, MANIFEST_VERSION, RawId,
    RawVersion,
};
use super::targets::FileTargets;
use super::tree::{self, Node, Pos, Problem, Value, deserialize_leaf};
use super::wording::{shorten, suggestion};
use crate::triple::{IdError, check_id};
use std::path::{Path, PathBuf};

/// A value with the position it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At<T> {
    pub value: T,
    pub pos: Pos,
}

/// A validated manifest file. Positions are kept per file; `merge` adds the file name when it
/// needs a full [`Location`], so ids do not each carry a copy of the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFile {
    pub file: PathBuf,
    pub accept_language: Option<At<AcceptLanguage>>,
    /// `None` when the file has no `targets:` section: it applies to the current target.
    pub targets: Option<FileTargets>,
    pub associations: Vec<Association>,
    /// The `actions:` section's valid entries; empty when there is none.
    pub actions: Vec<ActionEntry>,
}

/// A validated association entry: every action in `actions` on every artifact in `artifacts`.
/// Lists are non-empty, every id passed [`check_id`] and every name is non-empty; names and
/// selectors are resolved against the catalog later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Association {
    pub pos: Pos,
    pub product: At<Ref>,
    pub artifacts: Artifacts,
    pub actions: Vec<At<Ref>>,
}

/// The artifacts of an entry: references, or a selector (`artifacts: all`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Artifacts {
    Listed(Vec<At<Ref>>),
    Selected(At<ArtifactSelector>),
}

/// Parses and validates `text`, returning every error found (sorted by position) and the valid
/// part of the file: its entries without errors, so checks across files (duplicates, the action
/// limit) still run when something else is wrong. `None` when nothing could be read, as with a
/// syntax error or an unsupported version.
pub fn parse_file(file: &Path, text: &str) -> (Option<ManifestFile>, Vec<Diagnostic>) {
    // yaml-rust2 would read a byte-order mark as part of the first key; libyaml skips it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut checker = Checker {
        file,
        text,
        lines: std::cell::OnceCell::new(),
        errors: Vec::new(),
    };
    let document = match tree::parse(text) {
        Ok(document) => document,
        Err(problem) => {
            checker.unreadable(problem);
            return (None, checker.finish());
        }
    };
    // serde_yaml would have kept one of the two values without complaint.
    for duplicate in &document.duplicate_keys {
        let message = format!(
            "duplicate key `{}`; it is first given at {}",
            duplicate.key,
            checker.location(duplicate.first)
        );
        checker.error(duplicate.again, message);
    }
    if let Some(pos) = document.second_document {
        checker.error(
            pos,
            "a manifest file holds one YAML document; this starts a second one",
        );
        return (None, checker.finish());
    }
    // Which of two values for one key was meant is anyone's guess: judge nothing further.
    if !document.duplicate_keys.is_empty() {
        return (None, checker.finish());
    }
    let root = document.root.unwrap_or(Node {
        pos: Pos::START,
        value: Value::Null,
    });
    let manifest = checker.manifest(root);
    (manifest, checker.finish())
}

/// A value and where it is.
#[derive(Clone, Copy)]
pub(super) struct Cursor<'a> {
    pub(super) value: &'a Value,
    pub(super) pos: Pos,
}

impl<'a> Cursor<'a> {
    pub(super) fn of(node: &'a Node) -> Self {
        Cursor {
            value: &node.value,
            pos: node.pos,
        }
    }
}

/// Walks one file, collecting its errors; `targets` adds the walk of the `targets:` section.
pub(super) struct Checker<'f> {
    file: &'f Path,
    text: &'f str,
    /// Built at the first error, so a valid manifest pays nothing for it.
    lines: std::cell::OnceCell<Lines>,
    pub(super) errors: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(super) fn location(&self, pos: Pos) -> Location {
        let pos = self.lines.get_or_init(|| Lines::new(self.text)).locate(pos);
        Location::new(self.file, pos.line, pos.column)
    }

    pub(super) fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.error_hinted(pos, message, None);
    }

    /// [`Self::error`] with what the user can do about it.
    pub(super) fn error_hinted(
        &mut self,
        pos: Pos,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let location = self.location(pos);
        self.errors
            .push(Diagnostic::error(Some(location), message).with_hint(hint));
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        // The walk reports a missing key at its mapping after the mapping's other problems.
        self.errors.sort_by_key(|d| {
            d.location
                .as_ref()
                .map(|l| (l.line, l.column))
                .unwrap_or_default()
        });
        self.errors
    }

    /// Reports why the document could not be read. Syntax errors are worded by libyaml (through
    /// serde_yaml), whose messages name what was expected; it runs only on this error path.
    fn unreadable(&mut self, problem: Problem) {
        let (pos, message) = match problem {
            Problem::TooDeep { pos } => (
                pos,
                "invalid YAML: nesting is too deep (recursion limit exceeded)".to_string(),
            ),
            Problem::Depth { pos } => (
                pos,
                format!(
                    "invalid YAML: recursion limit exceeded at line {} column {} (nesting is too \
                     deep)",
                    pos.line, pos.column
                ),
            ),
            Problem::Aliases { pos } => (
                pos,
                "invalid YAML: repetition limit exceeded (aliases expand to too many values)"
                    .to_string(),
            ),
            Problem::Syntax { pos, message } => {
                let (pos, detail) = match serde_yaml::from_str::<serde::de::IgnoredAny>(self.text) {
                    Err(error) => {
                        let pos = error.location().map_or(pos, |at| Pos {
                            line: at.line(),
                            column: at.column(),
                        });
                        (pos, error.to_string())
                    }
                    // The parsers disagree: yaml-rust2's word is the one that stopped us.
                    Ok(_) => (pos, message),
                };
                (pos, Self::syntax_message(self.text, pos, &detail))
            }
        };
        self.error(pos, message);
    }

    /// A YAML parser's complaint told as the mistake behind it, where it is one a person makes
    /// often: the parser's words describe its own state (`found character that cannot start any
    /// token`), not the tab that caused it.
    fn syntax_message(text: &str, pos: Pos, detail: &str) -> String {
        let line = text.lines().nth(pos.line.saturating_sub(1)).unwrap_or("");
        let indent: &str = &line[..line.len() - line.trim_start().len()];
        if indent.contains('\t')
            || (detail.contains("cannot start any token") && line.contains('\t'))
        {
            return format!(
                "invalid YAML: a tab character indents this line; YAML indents with spaces only \
             ({detail})"
            );
        }
        if detail.contains("did not find expected '-' indicator")
            || detail.contains("did not find expected key")
        {
            return format!(
                "invalid YAML: this line's indentation does not match the lines above it; \
             entries of one list or mapping start in the same column ({detail})"
            );
        }
        format!("invalid YAML: {detail}")
    }

    /// Takes the tree by value: each association entry is dropped once judged, so the tree and
    /// the validated entries are never both whole in memory.
    fn manifest(&mut self, root: Node) -> Option<ManifestFile> {
        let mut mapping = match root.value {
            Value::Mapping(mapping) => mapping,
            Value::Null => {
                self.error(
                    root.pos,
                    "the file is empty; a manifest needs `version` and `associations`",
                );
                return None;
            }
            other => {
                let message = format!(
                    "the top level must be a mapping with `version` and `associations`, found {}",
                    describe(&other)
                );
                self.error(root.pos, message);
                return None;
            }
        };
        let mut version = None;
        let mut accept_language = None;
        let mut targets = None;
        let mut associations = None;
        let mut actions = None;
        for (index, (key, value)) in mapping.iter().enumerate() {
            let (key_pos, cursor) = (key.pos, Cursor::of(value));
            match self.key_name(&key.value, key_pos, &MANIFEST_KEYS) {
                Some("version") => version = Some(self.version(cursor)),
                Some("accept_language") => accept_language = self.accept_language(cursor),
                Some("targets") => targets = Some(self.targets(key_pos, cursor)),
                Some("associations") => associations = Some(index),
                Some("actions") => actions = Some(self.actions(cursor)),
                _ => {}
            }
        }
        match version {
            None => self.error(root.pos, "missing `version`; this format is version `1`"),
            // Another version may be shaped differently: its entries are not judged by these rules.
            Some(false) => return None,
            Some(true) => {}
        }
        // A file may declare only service actions; one with neither section declares nothing.
        let associations = match (associations, &actions) {
            (Some(index), _) => self.associations(mapping.swap_remove(index).1)?,
            (None, Some(_)) => Vec::new(),
            (None, None) => {
                self.error(root.pos, "missing `associations` (or `actions`)");
                return None;
            }
        };
        Some(ManifestFile {
            file: self.file.to_path_buf(),
            accept_language,
            targets,
            associations,
            actions: match actions {
                None => Vec::new(),
                Some(entries) => entries?,
            },
        })
    }

    /// The key's name if it is a string; reports it if it is not one of `known`.
    pub(super) fn key_name<'v>(
        &mut self,
        key: &'v Value,
        pos: Pos,
        known: &[&str],
    ) -> Option<&'v str> {
        let Value::String(name) = key else {
            let message = format!("keys must be strings, found {}", describe(key));
            self.error(pos, message);
            return None;
        };
        let name: &str = name;
        if known.contains(&name) {
            return Some(name);
        }
        let expected = known
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let hint = suggestion(name, known).map(|k| format!("did you mean `{k}`?"));
        let message = format!(
            "unknown key `{}`; expected one of {expected}",
            shorten(name)
        );
        self.error_hinted(pos, message, hint);
        None
    }

    /// Whether the rest of the file should be judged by version 1 rules: not when it declares
    /// another version.
    fn version(&mut self, at: Cursor<'_>) -> bool {
        match deserialize_leaf::<RawVersion>(at.value) {
            Some(RawVersion(MANIFEST_VERSION)) => true,
            Some(RawVersion(other)) => {
                let message = format!(
                    "unsupported manifest version `{other}`; this sc-assoc reads version `{MANIFEST_VERSION}`"
                );
                self.error(at.pos, message);
                false
            }
            None => {
                let message = format!(
                    "`version` must be the number `{MANIFEST_VERSION}`, found {}",
                    describe(at.value)
                );
                self.error(at.pos, message);
                // Most likely a version 1 file with a typo: the rest is worth judging.
                true
            }
        }
    }

    fn accept_language(&mut self, at: Cursor<'_>) -> Option<At<AcceptLanguage>> {
        match deserialize_leaf::<AcceptLanguage>(at.value) {
            Some(value) => Some(At { value, pos: at.pos }),
            None => {
                let message = format!(
                    "`accept_language` must be one of `en`, `jp`, `zh`, found {}",
                    describe(at.value)
                );
                self.error(at.pos, message);
                None
            }
        }
    }

    fn associations(&mut self, at: Node) -> Option<Vec<Association>> {
        let Value::Sequence(entries) = at.value else {
            let message = format!(
                "`associations` must be a list of associations, found {}",
                describe(&at.value)
            );
            self.error(at.pos, message);
            return None;
        };
        if entries.is_empty() {
            self.error(at.pos, "`associations` is empty; declare at least one");
            return None;
        }
        let mut valid = Vec::with_capacity(entries.len());
        for entry in entries {
            if let Some(association) = self.association(Cursor::of(&entry)) {
                valid.push(association);
            }
        }
        Some(valid)
    }

    /// One entry; `None` if anything in it is wrong (all of which is reported).
    fn association(&mut self, at: Cursor<'_>) -> Option<Association> {
        let Value::Mapping(mapping) = at.value else {
            let message = format!(
                "an association must be a mapping with `product`, `artifact` or `artifacts`, \
                 and `action` or `actions`; found {}",
                describe(at.value)
            );
            self.error(at.pos, message);
            return None;
        };
        let errors_before = self.errors.len();
        let mut product = None;
        // Per axis: the key that gave it (to spot both forms) and its value if it was valid.
        let mut artifacts: (Option<&str>, Option<Artifacts>) = (None, None);
        let mut actions: (Option<&str>, Option<Vec<At<Ref>>>) = (None, None);
        for (key, value) in mapping {
            let (key_pos, cursor) = (key.pos, Cursor::of(value));
            let Some(name) = self.key_name(&key.value, key_pos, &ASSOCIATION_KEYS) else {
                continue;
            };
            let given = match name {
                "product" => {
                    product = self.reference(cursor, "product", None);
                    continue;
                }
                "artifact" | "artifacts" => &mut artifacts.0,
                _ => &mut actions.0,
            };
            if let Some(other) = *given {
                let message =
                    format!("both `{other}` and `{name}` are given; use one or the other");
                self.error(key_pos, message);
                continue;
            }
            *given = Some(name);
            match name {
                "artifact" => {
                    artifacts.1 = self
                        .reference(cursor, "artifact", None)
                        .map(|r| Artifacts::Listed(vec![r]));
                }
                "artifacts" => artifacts.1 = self.artifacts(cursor),
                "action" => actions.1 = self.reference(cursor, "action", None).map(|r| vec![r]),
                _ => actions.1 = self.ref_list(cursor, "actions", "action"),
            }
        }
        if at.value.get("product").is_none() {
            self.error(at.pos, "missing `product`");
        }
        if artifacts.0.is_none() {
            self.error(at.pos, "missing `artifact` or `artifacts`");
        }
        if actions.0.is_none() {
            self.error(at.pos, "missing `action` or `actions`");
        }
        match (product, artifacts.1, actions.1) {
            (Some(product), Some(artifacts), Some(actions))
                if self.errors.len() == errors_before =>
            {
                Some(Association {
                    pos: at.pos,
                    product,
                    artifacts,
                    actions,
                })
            }
            _ => None,
        }
    }

    /// A single reference: an id (deserialized as [`RawId`] and checked against the API's id
    /// rule) or `{name: ...}`. `what` is the axis (`product`, `artifact`, `action`); `list` the
    /// key when the reference is a list item.
    fn reference(&mut self, at: Cursor<'_>, what: &str, list: Option<&str>) -> Option<At<Ref>> {
        let subject = match list {
            Some(key) => format!("each item of `{key}`"),
            None => format!("`{what}`"),
        };
        if let Value::Mapping(entries) = at.value {
            return self.name(at, entries, &subject);
        }
        let Some(RawId(id)) = deserialize_leaf::<RawId>(at.value) else {
            let message = format!(
                "{subject} must be an id string, found {}",
                describe(at.value)
            );
            self.error(at.pos, message);
            return None;
        };
        if let Err(error) = check_id(&id) {
            let message = match error {
                IdError::Empty => format!("empty {what} id"),
                other => format!("invalid {what} id `{}`: {other}", shorten(&id)),
            };
            self.error(at.pos, message);
            return None;
        }
        // AWS's ids say what they are: `prod-…`, `pa-…`, `act-…`. One of another kind here is
        // a mix-up the catalog would only answer with "does not exist".
        if let Some(kind) = id_kind(&id).filter(|kind| *kind != what) {
            let article = if kind == "product" { "a" } else { "an" };
            let message = format!(
                "`{}` is {article} {kind} id, given as the {what}",
                shorten(&id)
            );
            let hint = Some(format!(
                "{what} ids start with `{}`; or write a name as `{{name: ...}}`",
                id_prefix(what)
            ));
            self.error_hinted(at.pos, message, hint);
            return None;
        }
        Some(At {
            value: Ref::Id(id),
            pos: at.pos,
        })
    }

    /// `{name: "..."}`: the only key is `name`, and its value a non-empty string.
    fn name(&mut self, at: Cursor<'_>, entries: &[(Node, Node)], subject: &str) -> Option<At<Ref>> {
        let mut name = None;
        let mut ok = true;
        for (key, value) in entries {
            let cursor = Cursor::of(value);
            if !matches!(&key.value, Value::String(k) if &**k == "name") {
                let key = match &key.value {
                    Value::String(k) => format!("key `{}`", shorten(k)),
                    other => format!("key {}", describe(other)),
                };
                let message = format!(
                    "{subject} must be an id string or `{{name: ...}}`, found a mapping with {key}"
                );
                self.error(at.pos, message);
                ok = false;
                continue;
            }
            match deserialize_leaf::<String>(cursor.value) {
                Some(text) if !text.trim().is_empty() => name = Some(text),
                _ => {
                    let message = format!(
                        "`name` must be a non-empty string, found {}",
                        describe(cursor.value)
                    );
                    self.error(cursor.pos, message);
                    ok = false;
                }
            }
        }
        if entries.is_empty() {
            let message = format!(
                "{subject} must be an id string or `{{name: ...}}`, found an empty mapping"
            );
            self.error(at.pos, message);
            return None;
        }
        match name {
            Some(name) if ok => Some(At {
                value: Ref::Name(name),
                pos: at.pos,
            }),
            _ => None,
        }
    }

    /// `artifacts`: a selector (`all`, `active`) or a non-empty list of references.
    fn artifacts(&mut self, at: Cursor<'_>) -> Option<Artifacts> {
        if let Value::String(text) = at.value {
            if let Some(selector) = deserialize_leaf::<ArtifactSelector>(at.value) {
                return Some(Artifacts::Selected(At {
                    value: selector,
                    pos: at.pos,
                }));
            }
            let message = format!(
                "`artifacts` must be a list of ids, `all` or `active`, found string `{}`; for one \
                 artifact write `artifact:`",
                shorten(text)
            );
            self.error(at.pos, message);
            return None;
        }
        self.ref_list(at, "artifacts", "artifact")
            .map(Artifacts::Listed)
    }

    /// A non-empty list of references for the `key` (`artifacts` or `actions`) of `axis`.
    fn ref_list(&mut self, at: Cursor<'_>, key: &str, axis: &str) -> Option<Vec<At<Ref>>> {
        let Value::Sequence(items) = at.value else {
            let hint = matches!(at.value, Value::String(_))
                .then(|| format!("for one {axis} write `{axis}:`"));
            let message = format!(
                "`{key}` must be a list of ids, found {}",
                describe(at.value)
            );
            self.error_hinted(at.pos, message, hint);
            return None;
        };
        // `actions: []` declares that the artifacts carry no action: what `--prune` makes so.
        // An artifact list is never empty: it would declare nothing at all.
        if items.is_empty() && key != "actions" {
            self.error(at.pos, format!("`{key}` is empty; list at least one id"));
            return None;
        }
        let mut refs = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in items {
            match self.reference(Cursor::of(item), axis, Some(key)) {
                Some(r) => refs.push(r),
                None => ok = false,
            }
        }
        ok.then_some(refs)
    }
}

/// The kind of id `id` is by AWS's prefix, if it has one of the three.
fn id_kind(id: &str) -> Option<&'static str> {
    ["product", "artifact", "action"]
        .into_iter()
        .find(|kind| id.starts_with(id_prefix(kind)))
}

/// AWS's id prefix of a kind: `prod-`, `pa-`, `act-`.
fn id_prefix(kind: &str) -> &'static str {
    match kind {
        "product" => "prod-",
        "artifact" => "pa-",
        _ => "act-",
    }
}

/// How a value appears in a message: its kind, and short scalars verbatim.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) => format!("number `{n}`"),
        Value::String(s) => format!("string `{}`", shorten(s)),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(tag) => format!("a value tagged `{tag}`"),
    }
}
