//! What Terraform counts as one character: a grapheme cluster (`length("é")` is 1 whether the
//! accent is precomposed or combining). Used by `length`, `substr`, `strrev` and the widths of
//! `format`. No Unicode tables are available here, so clusters are approximated by the rules
//! that matter in practice: CR LF, combining marks of the common scripts, variation selectors,
//! emoji modifiers and tags, zero-width joiner sequences and regional-indicator pairs.

/// Splits `text` into grapheme clusters (approximately, per the module doc).
pub(super) fn clusters(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut previous: Option<char> = None;
    let mut regional_run = 0usize;
    for (position, character) in text.char_indices() {
        let joins = match previous {
            None => false,
            Some(before) => {
                (before == '\r' && character == '\n')
                    || extends(character)
                    || before == '\u{200D}'
                    || (is_regional(before) && is_regional(character) && regional_run % 2 == 1)
            }
        };
        if !joins && position > 0 {
            out.push(&text[start..position]);
            start = position;
        }
        regional_run = if is_regional(character) {
            if joins { regional_run + 1 } else { 1 }
        } else {
            0
        };
        previous = Some(character);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// The number of grapheme clusters in `text`.
pub(super) fn count(text: &str) -> usize {
    clusters(text).len()
}

fn is_regional(character: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&character)
}

/// Characters that attach to the one before them.
fn extends(character: char) -> bool {
    let code = character as u32;
    matches!(code,
        0x0300..=0x036F   // combining diacritical marks
        | 0x0483..=0x0489 // Cyrillic
        | 0x0591..=0x05BD | 0x05BF | 0x05C1..=0x05C2 | 0x05C4..=0x05C5 | 0x05C7 // Hebrew
        | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670 | 0x06D6..=0x06DC | 0x06DF..=0x06E4
        | 0x06E7..=0x06E8 | 0x06EA..=0x06ED // Arabic
        | 0x0900..=0x0903 | 0x093A..=0x093C | 0x093E..=0x094F | 0x0951..=0x0957
        | 0x0962..=0x0963 // Devanagari
        | 0x0981..=0x0983 | 0x09BC | 0x09BE..=0x09CD | 0x09D7 // Bengali
        | 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E // Thai
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF // combining marks extended and supplement
        | 0x200C..=0x200D // zero-width non-joiner and joiner
        | 0x20D0..=0x20FF // combining marks for symbols
        | 0x302A..=0x302F | 0x3099..=0x309A // CJK and kana marks
        | 0xFE00..=0xFE0F // variation selectors
        | 0xFE20..=0xFE2F // combining half marks
        | 0x1F3FB..=0x1F3FF // emoji skin tones
        | 0xE0020..=0xE007F // tags
        | 0xE0100..=0xE01EF // variation selectors supplement
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn clusters_follow_the_common_rules() {
        assert_eq!(clusters("abc"), vec!["a", "b", "c"]);
        assert_eq!(clusters("e\u{301}x"), vec!["e\u{301}", "x"]);
        assert_eq!(clusters("a\r\nb"), vec!["a", "\r\n", "b"]);
        assert_eq!(count("🤔🤷🏽‍♀️"), 2);
        assert_eq!(count("🇫🇷🇩🇪"), 2);
        assert_eq!(count(""), 0);
        assert_eq!(count("\u{301}"), 1);
    }
}
