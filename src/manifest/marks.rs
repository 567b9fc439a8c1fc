//! Source positions for a YAML document. serde_yaml decides what the document *means* but keeps
//! no positions, so this module runs yaml-rust2's event parser over the same text and records a
//! light tree of positions — no values, just the shape — that the validator walks in step with
//! the `serde_yaml::Value`. Both follow the document's order (serde_yaml's mappings preserve
//! insertion order), so the i-th key of a `Value` mapping sits at the i-th entry here, and a
//! problem's position costs a step per path segment, with no index to build or hash.
//!
//! The pass also finds duplicate keys (serde_yaml rejects them but points at the mapping, not the
//! key) and a second document. yaml-rust2 does not expand aliases, so alias bombs cost nothing
//! here; depth is bounded both by yaml-rust2's own recursion limit and by [`MAX_DEPTH`].

use std::collections::HashMap;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Nesting deeper than any manifest needs; a guard in case yaml-rust2's own limit ever goes.
const MAX_DEPTH: usize = 512;

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

/// Where a node starts, and where its children are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub pos: Pos,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A scalar or an alias (whose target is not followed: an error inside it is reported at
    /// the alias, which is where the reader has to look anyway).
    Leaf,
    Sequence(Vec<Node>),
    Mapping(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: Pos,
    pub value: Node,
}

impl Node {
    /// The `index`-th item of a sequence node.
    pub fn item(&self, index: usize) -> Option<&Node> {
        match &self.kind {
            NodeKind::Sequence(items) => items.get(index),
            _ => None,
        }
    }

    /// The `index`-th entry of a mapping node.
    pub fn entry(&self, index: usize) -> Option<&Entry> {
        match &self.kind {
            NodeKind::Mapping(entries) => entries.get(index),
            _ => None,
        }
    }

    /// How many children the node has; the validator compares this with the `Value` to make
    /// sure both parsers saw the same shape before trusting positions by index.
    pub fn len(&self) -> usize {
        match &self.kind {
            NodeKind::Leaf => 0,
            NodeKind::Sequence(items) => items.len(),
            NodeKind::Mapping(entries) => entries.len(),
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

/// What the position pass found.
#[derive(Debug, Default)]
pub struct Marks {
    /// The first document's root; `None` if the text is empty or yaml-rust2 could not parse it.
    pub root: Option<Node>,
    /// Start of a second document, if any (a manifest is one document).
    pub second_document: Option<Pos>,
    pub duplicate_keys: Vec<DuplicateKey>,
    /// yaml-rust2's syntax error, used when serde_yaml's has no position.
    pub syntax_error: Option<(Pos, String)>,
    /// The error is nesting beyond yaml-rust2's limit or [`MAX_DEPTH`]. Such text must not reach
    /// libyaml: its scanner is quadratic in the nesting depth of flow collections (50k levels of
    /// `{a: ` take seconds), so the caller reports this error instead of running serde_yaml.
    pub too_deep: bool,
}

struct Open {
    start: Pos,
    start_index: usize,
    collection: Collection,
}

enum Collection {
    Sequence(Vec<Node>),
    Mapping {
        entries: Vec<Entry>,
        /// Set between a key and its value.
        pending_key: Option<Pos>,
        /// Index of the first key, to tell block mappings (yaml-rust2 marks their start at the
        /// first `:`) from flow ones (marked at the `{`).
        first_key: Option<(Pos, usize)>,
        seen: HashMap<String, Pos>,
    },
}

/// Runs yaml-rust2 over `text`, stopping at the first error or after the first document.
pub fn scan(text: &str) -> Marks {
    let mut marks = Marks::default();
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    let mut documents = 0usize;
    loop {
        let (event, marker) = match parser.next_token() {
            Ok(next) => next,
            Err(error) => {
                marks.too_deep = error.info().contains("recursion limit");
                marks.syntax_error = Some((Pos::from_marker(error.marker()), error.info().into()));
                marks.root = None;
                return marks;
            }
        };
        let pos = Pos::from_marker(&marker);
        match event {
            Event::StreamEnd => return marks,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    marks.second_document = Some(pos);
                    return marks;
                }
            }
            Event::Scalar(text, style, ..) => {
                // An empty value (`artifact:` and nothing else) is marked at whatever follows,
                // often the next line; it is better pointed at by its key.
                let empty = text.is_empty() && style == TScalarStyle::Plain;
                let node = Node {
                    pos,
                    kind: NodeKind::Leaf,
                };
                add(&mut stack, &mut marks, node, Some(text), marker.index());
                if empty {
                    point_empty_value_at_key(&mut stack);
                }
            }
            Event::Alias(_) => {
                let node = Node {
                    pos,
                    kind: NodeKind::Leaf,
                };
                add(&mut stack, &mut marks, node, None, marker.index());
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    marks.too_deep = true;
                    marks.syntax_error = Some((pos, "recursion limit exceeded".into()));
                    marks.root = None;
                    return marks;
                }
                let collection = if matches!(event, Event::SequenceStart(..)) {
                    Collection::Sequence(Vec::new())
                } else {
                    Collection::Mapping {
                        entries: Vec::new(),
                        pending_key: None,
                        first_key: None,
                        seen: HashMap::new(),
                    }
                };
                stack.push(Open {
                    start: pos,
                    start_index: marker.index(),
                    collection,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = stack.pop() else { continue };
                let (node, index) = close(open);
                add(&mut stack, &mut marks, node, None, index);
            }
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
        }
    }
}

fn close(open: Open) -> (Node, usize) {
    match open.collection {
        Collection::Sequence(items) => (
            Node {
                pos: open.start,
                kind: NodeKind::Sequence(items),
            },
            open.start_index,
        ),
        Collection::Mapping {
            entries, first_key, ..
        } => {
            let (pos, index) = match first_key {
                Some((key, key_index)) if key_index < open.start_index => (key, key_index),
                _ => (open.start, open.start_index),
            };
            (
                Node {
                    pos,
                    kind: NodeKind::Mapping(entries),
                },
                index,
            )
        }
    }
}

/// Attaches a finished node to the open collection (or makes it the root). `key_text` is the
/// scalar's text, used to spot duplicate keys.
fn add(stack: &mut [Open], marks: &mut Marks, node: Node, key_text: Option<String>, index: usize) {
    let Some(open) = stack.last_mut() else {
        marks.root.get_or_insert(node);
        return;
    };
    match &mut open.collection {
        Collection::Sequence(items) => items.push(node),
        Collection::Mapping {
            entries,
            pending_key,
            first_key,
            seen,
        } => match pending_key.take() {
            Some(key) => entries.push(Entry { key, value: node }),
            None => {
                first_key.get_or_insert((node.pos, index));
                if let Some(text) = key_text {
                    if let Some(first) = seen.get(&text) {
                        marks.duplicate_keys.push(DuplicateKey {
                            key: text,
                            first: *first,
                            again: node.pos,
                        });
                    } else {
                        seen.insert(text, node.pos);
                    }
                }
                *pending_key = Some(node.pos);
            }
        },
    }
}

/// Moves the position of the value just added to a mapping onto its key.
fn point_empty_value_at_key(stack: &mut [Open]) {
    let Some(Open {
        collection:
            Collection::Mapping {
                entries,
                pending_key: None,
                ..
            },
        ..
    }) = stack.last_mut()
    else {
        return;
    };
    if let Some(entry) = entries.last_mut() {
        entry.value.pos = entry.key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }

    #[test]
    fn positions_are_one_based_and_block_mappings_start_at_their_first_key() {
        let marks = scan("# c\nversion: 1\nlist:\n  - a: x\n    b: [p, q]\n  - {c: y}\n");
        let root = marks.root.expect("root");
        assert_eq!(root.pos, pos(2, 1));
        let list = &root.entry(1).expect("list").value;
        assert_eq!(root.entry(1).map(|e| e.key), Some(pos(3, 1)));
        assert_eq!(list.pos, pos(4, 3));
        let first = list.item(0).expect("first item");
        assert_eq!(first.pos, pos(4, 5));
        let b = &first.entry(1).expect("b").value;
        assert_eq!(b.pos, pos(5, 8));
        assert_eq!(b.item(1).map(|n| n.pos), Some(pos(5, 12)));
        // A flow mapping starts at its brace.
        assert_eq!(list.item(1).map(|n| n.pos), Some(pos(6, 5)));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let marks = scan("ä: ü\nb: x\n");
        let root = marks.root.expect("root");
        assert_eq!(root.entry(0).map(|e| e.value.pos), Some(pos(1, 4)));
    }

    #[test]
    fn duplicate_keys_and_second_documents_are_found() {
        let marks = scan("a: 1\nb: 2\na: 3\n---\nc: 4\n");
        assert_eq!(
            marks.duplicate_keys,
            vec![DuplicateKey {
                key: "a".into(),
                first: pos(1, 1),
                again: pos(3, 1),
            }]
        );
        assert_eq!(marks.second_document, Some(pos(4, 1)));
    }

    #[test]
    fn hostile_nesting_stops_with_an_error() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let marks = scan(&text);
        assert!(marks.root.is_none());
        assert!(marks.too_deep, "{:?}", marks.syntax_error);
        let marks = scan(&"{a: ".repeat(50_000));
        assert!(marks.too_deep, "{:?}", marks.syntax_error);
    }
}
