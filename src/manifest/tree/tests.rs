//! The one-pass reader: positions, scalar resolution as serde_yaml does it, tags, aliases,
//! duplicate keys, second documents and the limits.

use super::*;

fn pos(line: usize, column: usize) -> Pos {
    Pos { line, column }
}

fn root(text: &str) -> Node {
    parse(text).expect("valid").root.expect("a document")
}

fn entry(node: &Node, index: usize) -> &(Node, Node) {
    match &node.value {
        Value::Mapping(entries) => &entries[index],
        other => panic!("not a mapping: {other:?}"),
    }
}

fn item(node: &Node, index: usize) -> &Node {
    match &node.value {
        Value::Sequence(items) => &items[index],
        other => panic!("not a sequence: {other:?}"),
    }
}

#[test]
fn positions_are_one_based_and_block_mappings_start_at_their_first_key() {
    let root = root("# c\nversion: 1\nlist:\n  - a: x\n    b: [p, q]\n  - {c: y}\n");
    assert_eq!(root.pos, pos(2, 1));
    let (key, list) = entry(&root, 1);
    assert_eq!(key.pos, pos(3, 1));
    assert_eq!(list.pos, pos(4, 3));
    let first = item(list, 0);
    assert_eq!(first.pos, pos(4, 5));
    let b = &entry(first, 1).1;
    assert_eq!(b.pos, pos(5, 8));
    assert_eq!(item(b, 1).pos, pos(5, 12));
    // A flow mapping starts at its brace.
    assert_eq!(item(list, 1).pos, pos(6, 5));
}

#[test]
fn columns_count_characters_not_bytes() {
    assert_eq!(entry(&root("ä: ü\nb: x\n"), 0).1.pos, pos(1, 4));
}

#[test]
fn an_empty_value_is_placed_at_its_key() {
    let root = root("a:\nb: ~\n");
    assert_eq!(
        entry(&root, 0).1,
        Node {
            pos: pos(1, 1),
            value: Value::Null
        }
    );
    assert_eq!(
        entry(&root, 1).1,
        Node {
            pos: pos(2, 4),
            value: Value::Null
        }
    );
}

#[test]
fn plain_scalars_resolve_as_serde_yaml_resolves_them() {
    let root = root(
        "[x, 'y', 3, -0x1f, 0o17, +5, 007, 1.0, 1e3, .inf, .nan, true, False, ~, null, '', \
         \"1\", 0x, 99999999999999999999]\n",
    );
    let Value::Sequence(items) = root.value else {
        panic!()
    };
    let number = |n: &str| Value::Number(n.into());
    let string = |s: &str| Value::String(s.into());
    let values: Vec<Value> = items.into_iter().map(|n| n.value).collect();
    assert_eq!(
        values,
        vec![
            string("x"),
            string("y"),
            number("3"),
            number("-31"),
            number("15"),
            number("5"),
            string("007"),
            number("1.0"),
            number("1000.0"),
            number("inf"),
            number("NaN"),
            Value::Bool(true),
            Value::Bool(false),
            Value::Null,
            Value::Null,
            string(""),
            string("1"),
            string("0x"),
            number("99999999999999999999"),
        ]
    );
}

#[test]
fn core_tags_resolve_and_other_tags_are_kept() {
    let root =
        root("[!!str 12, !!int 7, !!int x, !!binary aGk=, !custom z, !!map {a: b}, !t [1]]\n");
    let values: Vec<&Value> = match &root.value {
        Value::Sequence(items) => items.iter().map(|n| &n.value).collect(),
        _ => panic!(),
    };
    assert_eq!(values[0], &Value::String("12".into()));
    assert_eq!(values[1], &Value::Number("7".into()));
    assert_eq!(values[2], &Value::Tagged("!!int".into()));
    assert_eq!(values[3], &Value::Tagged("!!binary".into()));
    assert_eq!(values[4], &Value::Tagged("!custom".into()));
    assert!(matches!(values[5], Value::Mapping(_)));
    assert_eq!(values[6], &Value::Tagged("!t".into()));
}

#[test]
fn an_alias_is_a_copy_placed_at_the_alias() {
    let root = root("a: &x {k: v}\nb: *x\n");
    let (a, b) = (&entry(&root, 0).1, &entry(&root, 1).1);
    assert_eq!(entry(a, 0).1.value, entry(b, 0).1.value);
    assert_eq!(entry(a, 0).1.pos, pos(1, 11));
    assert_eq!(b.pos, pos(2, 4));
    assert_eq!(entry(b, 0).1.pos, pos(2, 4));
}

#[test]
fn duplicate_keys_and_second_documents_are_found() {
    let document = parse("a: 1\nb: 2\na: 3\n---\nc: 4\n").expect("valid");
    assert_eq!(
        document.duplicate_keys,
        vec![DuplicateKey {
            key: "a".into(),
            first: pos(1, 1),
            again: pos(3, 1),
        }]
    );
    assert_eq!(document.second_document, Some(pos(4, 1)));
}

#[test]
fn empty_text_has_no_document() {
    assert_eq!(parse("").expect("empty").root, None);
    assert_eq!(parse("# nothing\n").expect("comment").root, None);
}

#[test]
fn hostile_nesting_stops_with_an_error() {
    let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(parse(&text), Err(Problem::TooDeep { .. })));
    assert!(matches!(
        parse(&"{a: ".repeat(50_000)),
        Err(Problem::TooDeep { .. })
    ));
    let moderate = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert_eq!(
        parse(&moderate).err(),
        Some(Problem::Depth { pos: pos(1, 129) })
    );
}

#[test]
fn aliases_that_expand_too_far_are_refused() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..8 {
        let items = vec![format!("*a{}", level - 1); 10].join(", ");
        bomb.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    assert!(matches!(parse(&bomb), Err(Problem::Aliases { .. })));
}

#[test]
fn leaves_deserialize_with_the_target_type() {
    assert_eq!(deserialize_leaf::<u64>(&Value::Number("1".into())), Some(1));
    assert_eq!(deserialize_leaf::<u64>(&Value::Number("-1".into())), None);
    assert_eq!(deserialize_leaf::<u64>(&Value::Number("1.0".into())), None);
    assert_eq!(deserialize_leaf::<String>(&Value::Number("1".into())), None);
    assert_eq!(deserialize_leaf::<String>(&Value::Null), None);
    assert_eq!(
        deserialize_leaf::<String>(&Value::Tagged("!!binary".into())),
        None
    );
}

proptest::proptest! {
    /// The shortcut in `resolve_plain` only skips scalars the full resolution calls strings.
    #[test]
    fn a_scalar_not_starting_like_a_special_value_is_a_string(
        text in proptest::prop_oneof![
            "\\PC{1,12}",
            "(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[+-]?\\.(inf|Inf|nan))",
            "[+-]?[0-9.][0-9a-fA-FxXobeE.+-]{0,8}",
        ]
    ) {
        if !text.starts_with(super::may_start_special) {
            proptest::prop_assert_eq!(
                super::resolve_special(text.clone(), &mut super::Strings::default()),
                Value::String(text.into())
            );
        }
    }
}

/// A manifest repeats its keys and ids on every entry: each distinct string is held once, which
/// is what keeps a 100k-entry tree small (BENCHMARKS.md, the 100k rows).
#[test]
fn equal_string_scalars_share_one_copy() {
    let text = "- {product: prod-a, action: act-x}\n- {product: prod-a, action: act-y}\n";
    let root = parse(text).unwrap().root.unwrap();
    let Value::Sequence(items) = &root.value else {
        panic!("a sequence: {root:?}")
    };
    let string = |item: &Node, key: &str| match &item.value.get(key).unwrap().value {
        Value::String(s) => std::sync::Arc::clone(s),
        other => panic!("a string: {other:?}"),
    };
    let key = |item: &Node| match &item.value {
        Value::Mapping(entries) => match &entries[0].0.value {
            Value::String(s) => std::sync::Arc::clone(s),
            other => panic!("a string key: {other:?}"),
        },
        other => panic!("a mapping: {other:?}"),
    };
    let (first, second) = (&items[0], &items[1]);
    assert!(std::sync::Arc::ptr_eq(
        &string(first, "product"),
        &string(second, "product")
    ));
    assert!(std::sync::Arc::ptr_eq(&key(first), &key(second)));
    assert_eq!(&*string(first, "action"), "act-x");
    assert_eq!(&*string(second, "action"), "act-y");
}
