//! Positions as editors and line-oriented tools count them. The YAML parsers count a lone
//! carriage return as a line break and may point one line past the end of the text (an
//! unexpected end of stream); a report should name a place that exists in the file as split on
//! `\n`. [`Lines`] maps a parser position to that place, clamped to the end of the text.

use super::tree::Pos;

/// Line starts of one text, in characters, under both rules.
pub struct Lines {
    /// Start of each line when only `\n` ends a line.
    starts: Vec<usize>,
    /// Start of each line under YAML's rules (`\r\n`, `\r`, `\n`); `None` when the text has no
    /// lone `\r`, so both rules agree.
    yaml_starts: Option<Vec<usize>>,
    chars: usize,
}

impl Lines {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        let mut yaml_starts = vec![0];
        let mut lone_cr = false;
        let mut chars = text.chars().peekable();
        let mut offset = 0;
        while let Some(c) = chars.next() {
            offset += 1;
            match c {
                '\n' => {
                    starts.push(offset);
                    yaml_starts.push(offset);
                }
                '\r' if chars.peek() != Some(&'\n') => {
                    lone_cr = true;
                    yaml_starts.push(offset);
                }
                _ => {}
            }
        }
        Lines {
            starts,
            yaml_starts: lone_cr.then_some(yaml_starts),
            chars: offset,
        }
    }

    /// `pos` as the parsers give it (1-based), as a place inside the text.
    pub fn locate(&self, pos: Pos) -> Pos {
        let starts = self.yaml_starts.as_ref().unwrap_or(&self.starts);
        let offset = starts
            .get(pos.line.saturating_sub(1))
            .map_or(self.chars, |start| start + pos.column.saturating_sub(1))
            .min(self.chars);
        // The last line starting at or before `offset`.
        let line = self.starts.partition_point(|&start| start <= offset).max(1);
        Pos {
            line,
            column: offset - self.starts[line - 1] + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }

    #[test]
    fn a_position_past_the_end_is_clamped_to_the_end() {
        let lines = Lines::new("{");
        assert_eq!(lines.locate(pos(2, 1)), pos(1, 2));
        assert_eq!(Lines::new("a: 1\n").locate(pos(3, 1)), pos(2, 1));
    }

    #[test]
    fn a_lone_carriage_return_does_not_start_a_line() {
        let lines = Lines::new("a: 1\rb: [\nc");
        // The parser's line 2 column 4 is `[`, on the first `\n` line.
        assert_eq!(lines.locate(pos(2, 4)), pos(1, 9));
        assert_eq!(lines.locate(pos(3, 1)), pos(2, 1));
    }

    #[test]
    fn ordinary_positions_are_unchanged() {
        let lines = Lines::new("ab\r\ncd\n");
        assert_eq!(lines.locate(pos(2, 2)), pos(2, 2));
    }
}
