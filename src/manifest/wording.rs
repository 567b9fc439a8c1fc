//! How user text appears in messages: long values cut short, and the likely intent of a
//! misspelt key or name (edit distance), shared by validation and name resolution.

/// Long user text is cut so one bad value cannot flood the report.
pub fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The known key closest to a misspelt one, if it is close enough to be the likely intent.
pub fn suggestion<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    if name.len() > 40 {
        return None;
    }
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance in characters; also ranks name candidates in `crate::resolve`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::raw::ASSOCIATION_KEYS;

    #[test]
    fn misspelt_keys_get_a_suggestion() {
        assert_eq!(suggestion("artifcts", &ASSOCIATION_KEYS), Some("artifacts"));
        assert_eq!(suggestion("prodcut", &ASSOCIATION_KEYS), Some("product"));
        assert_eq!(suggestion("colour", &ASSOCIATION_KEYS), None);
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(500);
        assert_eq!(shorten(&long).chars().count(), 61);
        assert_eq!(shorten("pa-1"), "pa-1");
    }
}
