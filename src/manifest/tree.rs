//! The document as serde_yaml reads it, held in a light tree the validator can walk without
//! stopping at the first error. `serde_yaml::Value` would do, but it costs about 30 bytes of heap
//! per byte of a list-heavy manifest (a hash table per mapping, an owned string per scalar);
//! this tree keeps mappings as vectors and borrows plain scalars from the text, so a 100k-entry
//! manifest stays in tens of megabytes. serde_yaml still does the YAML work — syntax, aliases
//! with its expansion limit, its recursion limit — through its ordinary `Deserializer`.
//!
//! Leaves are turned into the raw serde types with [`deserialize_leaf`], so accepting a value is
//! always the raw type's decision.

use serde::Deserialize;
use serde::de::value::{
    BoolDeserializer, Error, I64Deserializer, StrDeserializer, U64Deserializer,
};
use serde::de::{self, Deserializer, EnumAccess, IgnoredAny, MapAccess, SeqAccess, VariantAccess};
use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Yaml<'a> {
    Null,
    Bool(bool),
    /// As written after YAML resolution (`0x10` is `16`); kept as text since it is only shown
    /// in messages or read as a version.
    Number(String),
    String(Cow<'a, str>),
    Sequence(Vec<Yaml<'a>>),
    /// Keys in document order, as in the file; duplicates are found by `marks`.
    Mapping(Vec<(Yaml<'a>, Yaml<'a>)>),
    /// A value with a custom tag (`!foo x`); only the tag is kept, for the message.
    Tagged(String),
}

impl<'a> Yaml<'a> {
    /// Parses one YAML document.
    pub fn parse(text: &'a str) -> Result<Yaml<'a>, serde_yaml::Error> {
        Yaml::deserialize(serde_yaml::Deserializer::from_str(text))
    }

    pub fn get(&self, key: &str) -> Option<&Yaml<'a>> {
        match self {
            Yaml::Mapping(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Yaml::String(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Deserializes a scalar with `T`'s own `Deserialize`; `None` for collections, tagged values and
/// whatever `T` refuses.
pub fn deserialize_leaf<T: de::DeserializeOwned>(value: &Yaml<'_>) -> Option<T> {
    let result = match value {
        Yaml::String(s) => T::deserialize(StrDeserializer::<Error>::new(s)),
        Yaml::Bool(b) => T::deserialize(BoolDeserializer::<Error>::new(*b)),
        Yaml::Number(n) => {
            if let Ok(u) = n.parse::<u64>() {
                T::deserialize(U64Deserializer::<Error>::new(u))
            } else if let Ok(i) = n.parse::<i64>() {
                T::deserialize(I64Deserializer::<Error>::new(i))
            } else {
                return None;
            }
        }
        Yaml::Null | Yaml::Sequence(_) | Yaml::Mapping(_) | Yaml::Tagged(_) => return None,
    };
    result.ok()
}

impl<'de> Deserialize<'de> for Yaml<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> de::Visitor<'de> for TreeVisitor {
    type Value = Yaml<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Yaml::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Yaml::Number(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Yaml::Number(v.to_string()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Self::Value, E> {
        Ok(Yaml::Number(v.to_string()))
    }

    fn visit_u128<E>(self, v: u128) -> Result<Self::Value, E> {
        Ok(Yaml::Number(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // `{:?}` keeps the point (`1.0`), so a float never reads back as an integer.
        Ok(Yaml::Number(format!("{v:?}")))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Yaml::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Yaml::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Yaml::String(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Yaml::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Yaml::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        Yaml::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Yaml::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Yaml::Mapping(entries))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        // serde_yaml presents `!tag value` as an enum variant named after the tag.
        let (tag, content): (String, _) = data.variant()?;
        content.newtype_variant::<IgnoredAny>()?;
        Ok(Yaml::Tagged(format!("!{}", tag.trim_start_matches('!'))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_borrow_from_the_text() {
        let tree = Yaml::parse("a: [x, 'y', 3, true, ~, !t z]\n").expect("valid");
        let Some(Yaml::Sequence(items)) = tree.get("a") else {
            panic!("{tree:?}")
        };
        assert!(matches!(&items[0], Yaml::String(Cow::Borrowed("x"))));
        assert_eq!(items[1], Yaml::String("y".into()));
        assert_eq!(items[2], Yaml::Number("3".into()));
        assert_eq!(items[3], Yaml::Bool(true));
        assert_eq!(items[4], Yaml::Null);
        assert_eq!(items[5], Yaml::Tagged("!t".into()));
    }

    #[test]
    fn empty_text_is_null() {
        assert_eq!(Yaml::parse("").expect("empty"), Yaml::Null);
        assert_eq!(Yaml::parse("# nothing\n").expect("comment"), Yaml::Null);
    }

    #[test]
    fn leaves_deserialize_with_the_target_type() {
        assert_eq!(deserialize_leaf::<u64>(&Yaml::Number("1".into())), Some(1));
        assert_eq!(deserialize_leaf::<u64>(&Yaml::Number("-1".into())), None);
        let float = Yaml::parse("1.0").expect("float");
        assert_eq!(float, Yaml::Number("1.0".into()));
        assert_eq!(deserialize_leaf::<u64>(&float), None);
        assert_eq!(deserialize_leaf::<String>(&Yaml::Number("1".into())), None);
        assert_eq!(deserialize_leaf::<String>(&Yaml::Null), None);
    }
}
