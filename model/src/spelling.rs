//! "Did you mean …?" suggestions: the closest candidate by edit distance, when it is close
//! enough to be a likely typo. No diagnostics are built here.

/// The candidate closest to `word`, if its edit distance is small relative to the word's length
/// (at most a third of the longer name, and at least 1 edit allowed).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    candidates
        .into_iter()
        .filter(|candidate| *candidate != word)
        .map(|candidate| {
            (
                edit_distance(&word_lower, &candidate.to_lowercase()),
                candidate,
            )
        })
        .filter(|(distance, candidate)| {
            let longest = word.chars().count().max(candidate.chars().count());
            *distance <= (longest / 3).max(1)
        })
        .min_by_key(|(distance, candidate)| (*distance, *candidate))
        .map(|(_, candidate)| candidate)
}

/// A `help:` detail line for [`closest`], or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates)
        .map(|candidate| format!("\nhelp: did you mean `{candidate}`?"))
        .unwrap_or_default()
}

/// Levenshtein distance with adjacent transpositions counted as one edit (optimal string
/// alignment), over characters.
pub fn edit_distance(left: &str, right: &str) -> usize {
    let left: Vec<char> = left.chars().collect();
    let right: Vec<char> = right.chars().collect();
    let width = right.len() + 1;
    let mut rows = vec![0usize; (left.len() + 1) * width];
    for (index, cell) in rows.iter_mut().take(width).enumerate() {
        *cell = index;
    }
    for row in 1..=left.len() {
        rows[row * width] = row;
        for column in 1..=right.len() {
            let cost = usize::from(left[row - 1] != right[column - 1]);
            let mut best = (rows[(row - 1) * width + column] + 1)
                .min(rows[row * width + column - 1] + 1)
                .min(rows[(row - 1) * width + column - 1] + cost);
            if row > 1
                && column > 1
                && left[row - 1] == right[column - 2]
                && left[row - 2] == right[column - 1]
            {
                best = best.min(rows[(row - 2) * width + column - 2] + 1);
            }
            rows[row * width + column] = best;
        }
    }
    rows[left.len() * width + right.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("vm_sise", "vm_size"), 1);
        assert_eq!(edit_distance("nmae", "name"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn only_close_candidates_are_suggested() {
        let candidates = ["vm_size", "vm_priority", "name"];
        assert_eq!(closest("vm_sise", candidates), Some("vm_size"));
        assert_eq!(closest("completely_else", candidates), None);
        assert_eq!(
            did_you_mean("nam", candidates),
            "\nhelp: did you mean `name`?"
        );
    }
}
