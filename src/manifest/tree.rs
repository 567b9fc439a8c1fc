//! A YAML document read in one pass into a light tree that keeps, for every value, where it was
//! written. yaml-rust2's event parser does the YAML work (syntax, anchors, tags); this module
//! resolves plain scalars the way serde_yaml does (YAML 1.2 core schema: `~`/`null`, `true`,
//! `0x10`, `1.5`, and leading-zero digits stay strings), expands aliases (an alias's copy is
//! placed at the alias, which is where a reader has to look), and finds what serde_yaml would
//! hide: duplicate keys and a second document. Mappings are vectors in document order and
//! scalars keep the string the parser produced, so a 100k-entry manifest costs one parse and one
//! modest tree.
//!
//! Limits match serde_yaml's, so a document is refused for the same reasons as before: nesting
//! deeper than 128 collections, and aliases that expand to too many values (an alias bomb).
//! Leaves are turned into the raw serde types with [`deserialize_leaf`], so accepting a value is
//! always the raw type's decision.

use serde::de;
use serde::de::value::{
    BoolDeserializer, Error, I64Deserializer, StrDeserializer, U64Deserializer,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Collections nested deeper than this are refused, as serde_yaml refuses them.
const MAX_DEPTH: usize = 128;
/// Values aliases may add to a document, all aliases together.
const ALIAS_BUDGET: usize = 100_000;
/// yaml-rust2's prefix for `!!` tags.
const CORE_TAG: &str = "tag:yaml.org,2002:";

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };

    fn from_marker(marker: &Marker) -> Pos {
        // yaml-rust2 0.13 reports 1-based lines but 0-based columns (its doc says both are
        // 1-based; the unit tests below pin what it actually does).
        Pos {
            line: marker.line(),
            column: marker.col() + 1,
        }
    }
}

/// A value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// As written after YAML resolution (`0x10` is `16`); kept as text since it is only shown
    /// in messages or read as a version.
    Number(String),
    /// Shared: a manifest repeats the same keys and ids on every entry, and one copy of each
    /// keeps a 100k-entry tree to a third of the memory a string per scalar took.
    String(Arc<str>),
    Sequence(Vec<Node>),
    /// Keys in document order, as in the file.
    Mapping(Vec<(Node, Node)>),
    /// A value with a tag other than the core `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`,
    /// `!!seq` and `!!map` (`!foo x`, `!!binary aGk=`); only the tag is kept, for the message.
    Tagged(String),
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Value::Mapping(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.value, Value::String(s) if &**s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// A key given twice in one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    pub key: String,
    pub first: Pos,
    pub again: Pos,
}

/// A document that was read.
#[derive(Debug, Default)]
pub struct Document {
    /// `None` when the text holds no document (empty, or comments only).
    pub root: Option<Node>,
    /// Start of a second document, if any (a manifest is one document; reading stops there).
    pub second_document: Option<Pos>,
    pub duplicate_keys: Vec<DuplicateKey>,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// yaml-rust2's syntax error.
    Syntax { pos: Pos, message: String },
    /// Nesting beyond yaml-rust2's own limit: no other parser should see such text (libyaml's
    /// scanner is quadratic in the depth of flow collections).
    TooDeep { pos: Pos },
    /// Nesting beyond [`MAX_DEPTH`], at the first collection too many.
    Depth { pos: Pos },
    /// Aliases expand beyond [`ALIAS_BUDGET`], at the alias that went over.
    Aliases { pos: Pos },
}

/// An open collection.
struct Open {
    pos: Pos,
    index: usize,
    anchor: usize,
    /// A tag the collection does not keep (`!foo [..]` is a tagged value).
    tag: Option<String>,
    kind: OpenKind,
}

enum OpenKind {
    Sequence(Vec<Node>),
    Mapping {
        entries: Vec<(Node, Node)>,
        /// A key waiting for its value, with its text index.
        key: Option<(Node, usize)>,
        /// Where the first key starts: block mappings are marked at their first `:` by
        /// yaml-rust2, flow ones at the `{`; either way the mapping is shown at its start.
        first_key: Option<(Pos, usize)>,
    },
}

/// Reads the first document of `text`.
pub fn parse(text: &str) -> Result<Document, Problem> {
    let mut parser = Parser::new_from_str(text);
    let mut document = Document::default();
    let mut stack: Vec<Open> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut alias_budget = ALIAS_BUDGET;
    let mut documents = 0usize;
    let mut strings = Strings::default();
    loop {
        let (event, marker) = parser.next_token().map_err(|error| syntax(&error))?;
        let pos = Pos::from_marker(&marker);
        let mut empty = false;
        let (node, anchor, index) = match event {
            Event::StreamEnd => return Ok(document),
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    document.second_document = Some(pos);
                    return Ok(document);
                }
                continue;
            }
            Event::Scalar(text, style, anchor, tag) => {
                empty = text.is_empty() && style == TScalarStyle::Plain && tag.is_none();
                let value = scalar(text, style, tag.as_ref(), &mut strings);
                (Node { pos, value }, anchor, marker.index())
            }
            Event::Alias(id) => {
                let Some(target) = anchors.get(&id) else {
                    // An alias inside the node it names: serde_yaml refuses it too.
                    return Err(Problem::Syntax {
                        pos,
                        message: "an alias refers to a node that contains it".into(),
                    });
                };
                let size = count(target);
                if size > alias_budget {
                    return Err(Problem::Aliases { pos });
                }
                alias_budget -= size;
                let mut copy = target.clone();
                place(&mut copy, pos);
                (copy, 0, marker.index())
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(deeper(&mut parser, pos));
                }
                let kind = if matches!(event, Event::SequenceStart(..)) {
                    OpenKind::Sequence(Vec::new())
                } else {
                    OpenKind::Mapping {
                        entries: Vec::new(),
                        key: None,
                        first_key: None,
                    }
                };
                stack.push(Open {
                    pos,
                    index: marker.index(),
                    anchor,
                    tag: tag.as_ref().and_then(kept_tag),
                    kind,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = stack.pop() else { continue };
                let anchor = open.anchor;
                let (node, index) = close(open);
                (node, anchor, index)
            }
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => continue,
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        add(&mut stack, &mut document, node, index, empty);
    }
}

fn syntax(error: &yaml_rust2::ScanError) -> Problem {
    let pos = Pos::from_marker(error.marker());
    if error.info().contains("recursion limit") {
        Problem::TooDeep { pos }
    } else {
        Problem::Syntax {
            pos,
            message: error.info().to_string(),
        }
    }
}

/// Past [`MAX_DEPTH`] at `pos`: if yaml-rust2 itself gives up further on, that is the error
/// (such text must not reach libyaml); otherwise it is the depth limit here.
fn deeper(parser: &mut Parser<std::str::Chars<'_>>, pos: Pos) -> Problem {
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => return Problem::Depth { pos },
            Ok(_) => {}
            Err(error) => {
                return match syntax(&error) {
                    too_deep @ Problem::TooDeep { .. } => too_deep,
                    _ => Problem::Depth { pos },
                };
            }
        }
    }
}

/// A scalar's value: quoted and `!!str` scalars are strings, plain ones are resolved, other
/// tags are kept as tags.
fn scalar(text: String, style: TScalarStyle, tag: Option<&Tag>, strings: &mut Strings) -> Value {
    let Some(tag) = tag else {
        return if style == TScalarStyle::Plain {
            resolve_plain(text, strings)
        } else {
            strings.value(text)
        };
    };
    if tag.handle != CORE_TAG {
        return Value::Tagged(tag_name(tag));
    }
    let resolved = match tag.suffix.as_str() {
        "str" => return strings.value(text),
        "null" if text.is_empty() || is_null(&text) => return Value::Null,
        "bool" | "int" | "float" => resolve_plain(text, strings),
        _ => return Value::Tagged(tag_name(tag)),
    };
    // `!!int abc` is no int: judged as a tagged value, not silently read as a string.
    let fits = match (&resolved, tag.suffix.as_str()) {
        (Value::Bool(_), "bool") => true,
        (Value::Number(n), "int") => !n.contains(['.', 'e', 'E', 'N', 'i']),
        (Value::Number(_), "float") => true,
        _ => false,
    };
    if fits {
        resolved
    } else {
        Value::Tagged(tag_name(tag))
    }
}

fn tag_name(tag: &Tag) -> String {
    match tag.handle.as_str() {
        CORE_TAG => format!("!!{}", tag.suffix),
        handle => format!("{handle}{}", tag.suffix),
    }
}

/// The tag a collection keeps, if it is not a core one.
fn kept_tag(tag: &Tag) -> Option<String> {
    let core = tag.handle == CORE_TAG && matches!(tag.suffix.as_str(), "seq" | "map");
    (!core).then(|| tag_name(tag))
}

fn is_null(text: &str) -> bool {
    matches!(text, "~" | "null" | "Null" | "NULL")
}

/// A plain scalar as serde_yaml reads it: null, boolean, integer (decimal, `0x`, `0o`, `0b`,
/// signed), float (finite, `.inf`, `.nan`), else a string. Leading zeros make a string.
fn resolve_plain(text: String, strings: &mut Strings) -> Value {
    // Only these characters start a null, a boolean or a number (`0x1f`, `-.inf`, `1e3`); ids,
    // names and keys mostly start otherwise and are strings without the checks below, which
    // are most of the time a 100k-entry manifest spends here.
    if !text.is_empty() && !text.starts_with(may_start_special) {
        return strings.value(text);
    }
    resolve_special(text, strings)
}

/// Whether a plain scalar starting with `c` may be a null, a boolean or a number.
fn may_start_special(c: char) -> bool {
    c.is_ascii_digit() || "~nNtTfF+-.".contains(c)
}

/// [`resolve_plain`] without its shortcut.
fn resolve_special(text: String, strings: &mut Strings) -> Value {
    if text.is_empty() || is_null(&text) {
        return Value::Null;
    }
    match text.as_str() {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(int) = parse_int(&text) {
        return Value::Number(int);
    }
    if !leading_zero_digits(&text)
        && let Some(float) = parse_float(&text)
    {
        return Value::Number(format!("{float:?}"));
    }
    strings.value(text)
}

/// One shared copy of each string scalar of a document.
#[derive(Default)]
struct Strings(HashSet<Arc<str>>);

impl Strings {
    fn value(&mut self, text: String) -> Value {
        if let Some(shared) = self.0.get(text.as_str()) {
            return Value::String(Arc::clone(shared));
        }
        let shared: Arc<str> = Arc::from(text);
        self.0.insert(Arc::clone(&shared));
        Value::String(shared)
    }
}

fn leading_zero_digits(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits.len() > 1 && digits.starts_with('0') && digits[1..].bytes().all(|b| b.is_ascii_digit())
}

fn parse_int(text: &str) -> Option<String> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (radix, digits) = if let Some(rest) = body.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = body.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = body.strip_prefix("0b") {
        (2, rest)
    } else {
        if leading_zero_digits(text) {
            return None;
        }
        (10, body)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    if !negative {
        return Some(magnitude.to_string());
    }
    let value = 0i128.checked_sub_unsigned(magnitude)?;
    Some(value.to_string())
}

fn parse_float(text: &str) -> Option<f64> {
    let unsigned = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => text,
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" if unsigned.len() == text.len() => return Some(f64::NAN),
        _ => {}
    }
    unsigned.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Values in `node`, itself included.
fn count(node: &Node) -> usize {
    1 + match &node.value {
        Value::Sequence(items) => items.iter().map(count).sum(),
        Value::Mapping(entries) => entries.iter().map(|(k, v)| count(k) + count(v)).sum(),
        _ => 0,
    }
}

/// Moves `node` and everything in it to `pos`.
fn place(node: &mut Node, pos: Pos) {
    node.pos = pos;
    match &mut node.value {
        Value::Sequence(items) => items.iter_mut().for_each(|n| place(n, pos)),
        Value::Mapping(entries) => entries.iter_mut().for_each(|(k, v)| {
            place(k, pos);
            place(v, pos);
        }),
        _ => {}
    }
}

fn close(open: Open) -> (Node, usize) {
    let (pos, index, value) = match open.kind {
        // Growth leaves up to half a collection's capacity unused (a 3-key entry holds room for
        // 4): the tree is kept whole while it is checked, so it is trimmed.
        OpenKind::Sequence(mut items) => {
            items.shrink_to_fit();
            (open.pos, open.index, Value::Sequence(items))
        }
        OpenKind::Mapping {
            mut entries,
            first_key,
            ..
        } => {
            entries.shrink_to_fit();
            let (pos, index) = match first_key {
                Some((key, key_index)) if key_index < open.index => (key, key_index),
                _ => (open.pos, open.index),
            };
            (pos, index, Value::Mapping(entries))
        }
    };
    let value = match open.tag {
        Some(tag) => Value::Tagged(tag),
        None => value,
    };
    (Node { pos, value }, index)
}

/// Attaches a finished node to the open collection, or makes it the root.
/// `empty` marks the parser's empty scalar (`artifact:` and nothing else).
fn add(stack: &mut [Open], document: &mut Document, node: Node, index: usize, empty: bool) {
    let Some(open) = stack.last_mut() else {
        document.root.get_or_insert(node);
        return;
    };
    match &mut open.kind {
        OpenKind::Sequence(items) => items.push(node),
        OpenKind::Mapping {
            entries,
            key,
            first_key,
        } => match key.take() {
            Some((key, _)) => {
                let mut value = node;
                // An empty value is marked at whatever follows, often the next line; it is
                // better pointed at by its key.
                if empty {
                    value.pos = key.pos;
                }
                entries.push((key, value));
            }
            None => {
                first_key.get_or_insert((node.pos, index));
                if let Some(text) = key_text(&node.value)
                    && let Some((first, _)) = entries
                        .iter()
                        .find(|(k, _)| key_text(&k.value) == Some(text))
                {
                    document.duplicate_keys.push(DuplicateKey {
                        key: text.to_string(),
                        first: first.pos,
                        again: node.pos,
                    });
                }
                *key = Some((node, index));
            }
        },
    }
}

/// The text of a scalar key, to spot duplicates.
fn key_text(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Number(s) => Some(s),
        Value::Bool(true) => Some("true"),
        Value::Bool(false) => Some("false"),
        Value::Null => Some("null"),
        _ => None,
    }
}

/// Deserializes a scalar with `T`'s own `Deserialize`; `None` for collections, tagged values and
/// whatever `T` refuses.
pub fn deserialize_leaf<T: de::DeserializeOwned>(value: &Value) -> Option<T> {
    let result = match value {
        Value::String(s) => T::deserialize(StrDeserializer::<Error>::new(s)),
        Value::Bool(b) => T::deserialize(BoolDeserializer::<Error>::new(*b)),
        Value::Number(n) => {
            if let Ok(u) = n.parse::<u64>() {
                T::deserialize(U64Deserializer::<Error>::new(u))
            } else if let Ok(i) = n.parse::<i64>() {
                T::deserialize(I64Deserializer::<Error>::new(i))
            } else {
                return None;
            }
        }
        Value::Null | Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_) => return None,
    };
    result.ok()
}

#[cfg(test)]
mod tests;
