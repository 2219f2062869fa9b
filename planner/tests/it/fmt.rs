//! `planner::fmt::format_source` against real `terraform fmt`, byte for byte, on every terraform
//! version: every `.tf` file of the repository, every configuration written inline in the
//! workspace's Rust sources (raw strings that hold a block), and generated messy inputs. Where
//! terraform refuses an input, `format_source` must refuse it too. Every result must be stable:
//! formatting it again changes nothing.
//!
//! Terraform binaries: the three versions `scripts/install-terraform` installs
//! (`e2e::terraform_binaries`); any of them missing fails these tests.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use e2e::{Terraform, terraform_binaries, workspace_root};
use planner::fmt::format_source;

/// Whether `terraform` parses provider-defined function calls (`provider::p::f()`, Terraform
/// 1.8+), which `format_source` accepts.
fn has_namespaced_functions(terraform: &Terraform) -> bool {
    terraform.semver >= (1, 8, 0)
}

/// What `terraform fmt` makes of each input: the formatted text, or `None` when it refuses it.
/// One run per folder of 64 files, since each terraform start costs about 0.1 s.
fn terraform_fmt(terraform: &Terraform, inputs: &[String]) -> Vec<Option<String>> {
    inputs
        .chunks(64)
        .flat_map(|chunk| terraform_fmt_folder(terraform, chunk))
        .collect()
}

fn terraform_fmt_folder(terraform: &Terraform, inputs: &[String]) -> Vec<Option<String>> {
    let dir = tempfile::tempdir().expect("temporary folder");
    let name = |index: usize| format!("{index:05}.tf");
    for (index, input) in inputs.iter().enumerate() {
        std::fs::write(dir.path().join(name(index)), input).expect("write input");
    }
    let cli_config = dir.path().join("terraformrc");
    std::fs::write(&cli_config, "").expect("write CLI config");
    let output = Command::new(&terraform.path)
        .args(["fmt", "-no-color", "-list=false", "."])
        .current_dir(dir.path())
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", &cli_config)
        .stdin(Stdio::null())
        .output()
        .expect("terraform runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Terraform 1.0.3 can crash while printing some diagnostics (a slice bound in its source
    // snippets), after formatting every file but before naming the refused ones. Its crash
    // report goes to standard output, and the exit status stays 2.
    let crashed = !matches!(output.status.code(), Some(0 | 2))
        || String::from_utf8_lossy(&output.stdout).contains("TERRAFORM CRASH");
    // Each refused file is named by its diagnostics: `  on 00003.tf line 1:`.
    let refused: BTreeSet<&str> = stderr
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("on "))
        .filter_map(|rest| rest.split(" line ").next())
        .collect();
    inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let file = name(index);
            let result = std::fs::read_to_string(dir.path().join(&file)).expect("read result");
            if result != *input {
                Some(result)
            } else if crashed {
                // Unchanged: already formatted, or refused; ask about this file alone.
                accepts(terraform, input, dir.path()).then_some(result)
            } else {
                (!refused.contains(file.as_str())).then_some(result)
            }
        })
        .collect()
}

/// Whether `terraform fmt -` accepts `input`, run in `dir` (where a crash leaves its log) with
/// the empty CLI configuration there.
fn accepts(terraform: &Terraform, input: &str, dir: &Path) -> bool {
    use std::io::Write;
    let mut child = Command::new(&terraform.path)
        .args(["fmt", "-no-color", "-"])
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", dir.join("terraformrc"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("terraform runs");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .expect("write to terraform");
    child.wait().expect("terraform ends").success()
}

/// One input and where it comes from.
struct Case {
    label: String,
    text: String,
}

/// Compares with every terraform, twice: the inputs, then the results of the first pass
/// (`terraform fmt` is not always idempotent: it unwraps one `"${…}"` level per run). Prints how
/// many inputs matched on each; panics listing the first mismatches.
#[allow(clippy::print_stderr)] // the figures are the point of the test
#[track_caller]
fn assert_matches_terraform(corpus: &str, cases: &[Case]) {
    let inputs: Vec<String> = cases.iter().map(|case| case.text.clone()).collect();
    for terraform in terraform_binaries() {
        let expected = terraform_fmt(&terraform, &inputs);
        let mut mismatches = Vec::new();
        let (mut refused, mut newer_syntax) = (0, 0);
        let mut formatted: Vec<(&Case, String)> = Vec::new();
        for (case, expected) in cases.iter().zip(&expected) {
            let actual = format_source(&case.text);
            match (expected, &actual) {
                (Some(expected), Ok(actual)) if expected == actual => {
                    formatted.push((case, actual.clone()));
                }
                (None, Err(_)) => refused += 1,
                // Terraform before 1.8 refuses `a::b(…)`; `format_source` follows 1.8+.
                (None, Ok(_))
                    if !has_namespaced_functions(&terraform) && case.text.contains("::") =>
                {
                    newer_syntax += 1;
                }
                _ => mismatches.push(mismatch(
                    &terraform,
                    &case.label,
                    &case.text,
                    expected.as_deref(),
                    &actual,
                )),
            }
        }
        let first_pass: Vec<String> = formatted.iter().map(|(_, text)| text.clone()).collect();
        let second = terraform_fmt(&terraform, &first_pass);
        let mut unchanged = 0;
        for ((case, first), expected) in formatted.iter().zip(&second) {
            let actual = format_source(first);
            if expected.as_ref() != actual.as_ref().ok() {
                let label = format!("{} (second pass)", case.label);
                mismatches.push(mismatch(
                    &terraform,
                    &label,
                    first,
                    expected.as_deref(),
                    &actual,
                ));
            } else if actual.as_ref() == Ok(first) {
                unchanged += 1;
            }
        }
        eprintln!(
            "fmt {corpus} vs {}: {} of {} inputs match ({} formatted identically, {refused} refused by both{}); \
             second pass: {unchanged} of {} unchanged, the others rewritten as terraform rewrites them",
            terraform.version,
            formatted.len() + refused,
            cases.len(),
            formatted.len(),
            if newer_syntax > 0 {
                format!(
                    "; {newer_syntax} with a namespaced function call, which only Terraform 1.8+ accepts"
                )
            } else {
                String::new()
            },
            formatted.len(),
        );
        assert!(
            mismatches.is_empty(),
            "{corpus}: {} of {} inputs differ from {}:\n{}",
            mismatches.len(),
            cases.len(),
            terraform.version,
            mismatches
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

fn mismatch(
    terraform: &Terraform,
    label: &str,
    input: &str,
    expected: Option<&str>,
    actual: &Result<String, planner::fmt::FmtError>,
) -> String {
    format!(
        "{label}: input {input:?}\n  {} gives {:?}\n  format_source gives {actual:?}",
        terraform.version,
        expected.unwrap_or("(refused)"),
    )
}

/// Every file under `dir` whose name ends with `extension`, in name order, skipping build
/// output, virtualenvs, packages and git's own folder.
fn files(dir: &Path, extension: &str, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if !matches!(name, "target" | ".venv" | "node_modules" | ".git") {
                files(&path, extension, found);
            }
        } else if name.ends_with(extension) {
            found.push(path);
        }
    }
}

/// The raw string literals (`r#"…"#`) of a Rust source that hold a configuration: a line that
/// opens a top-level block.
fn inline_configurations(source: &str) -> Vec<String> {
    const BLOCKS: &[&str] = &[
        "resource",
        "data",
        "variable",
        "locals",
        "output",
        "terraform",
        "provider",
        "module",
    ];
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find("r#") {
        let after = &rest[start + 1..];
        let hashes = after.bytes().take_while(|byte| *byte == b'#').count();
        if after.as_bytes().get(hashes) != Some(&b'"') {
            rest = &rest[start + 2..];
            continue;
        }
        let body_start = start + 1 + hashes + 1;
        let close = format!("\"{}", "#".repeat(hashes));
        let Some(length) = rest[body_start..].find(&close) else {
            break;
        };
        let body = &rest[body_start..body_start + length];
        let opens_block = body.lines().any(|line| {
            let line = line.trim_start();
            BLOCKS.iter().any(|block| line.starts_with(block)) && line.trim_end().ends_with('{')
        });
        if opens_block {
            found.push(body.to_owned());
        }
        rest = &rest[body_start + length + close.len()..];
    }
    found
}

#[test]
fn repository_configurations_match_terraform() {
    let root = workspace_root();
    let label = |path: &Path| {
        path.strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    let mut tf_files = Vec::new();
    files(&root, ".tf", &mut tf_files);
    assert!(
        tf_files
            .iter()
            .any(|path| path.starts_with(root.join("examples"))),
        "the examples' .tf files are found"
    );
    let mut cases: Vec<Case> = tf_files
        .iter()
        .map(|path| Case {
            label: label(path),
            text: std::fs::read_to_string(path).expect("read .tf file"),
        })
        .collect();
    let mut sources = Vec::new();
    files(&root, ".rs", &mut sources);
    for path in &sources {
        let source = std::fs::read_to_string(path).expect("read .rs file");
        for (index, text) in inline_configurations(&source).into_iter().enumerate() {
            let label = format!("{} (inline #{index})", label(path));
            cases.push(Case { label, text });
        }
    }
    let inline = cases.len() - tf_files.len();
    assert!(inline > 0, "inline configurations are found");
    let corpus = format!(
        "repository configurations ({} .tf files, {inline} inline)",
        tf_files.len()
    );
    assert_matches_terraform(&corpus, &cases);
}

/// How many inputs a generated corpus has: `default`, or `FMT_MESSY_CASES` for a longer hunt
/// (`FMT_MESSY_CASES=20000 cargo test -p planner --test it -- fmt::`).
fn messy_count(default: u64) -> u64 {
    std::env::var("FMT_MESSY_CASES")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(default)
}

#[test]
fn messy_inputs_match_terraform() {
    let cases: Vec<Case> = (0..messy_count(600))
        .map(|seed| Case {
            label: format!("messy input (seed {seed})"),
            text: Messy::new(seed).file(),
        })
        .collect();
    assert_matches_terraform("generated messy inputs", &cases);
}

#[test]
fn broken_inputs_are_refused_like_terraform() {
    // Valid messy inputs with one character removed or added: most stop parsing.
    let cases: Vec<Case> = (0..messy_count(300))
        .map(|seed| Case {
            label: format!("broken input (seed {seed})"),
            text: broken(seed),
        })
        .collect();
    assert_matches_terraform("broken inputs", &cases);
}

/// A valid messy input with one to three mutations: a character or a short piece of syntax
/// removed, inserted or doubled. Most no longer parse.
fn broken(seed: u64) -> String {
    const PIECES: &[&str] = &[
        "{",
        "}",
        "\"",
        "=",
        "(",
        ")",
        "[",
        "]",
        ",",
        "$",
        "\n",
        "#",
        "<",
        ".",
        "x",
        "${",
        "%{",
        "}\"",
        "~",
        "&",
        "'",
        ";",
        "::",
        "...",
        "=>",
        "?",
        ":",
        "\\",
        "\r",
        "\t",
        "<<EOT\n",
        "EOT\n",
        "/*",
        "*/",
        "é",
        "1.",
        "-",
        "!",
        " for ",
        " in ",
        " if ",
        "%{ endif }",
        "\r\n",
    ];
    let mut messy = Messy::new(10_000 + seed);
    let mut text = messy.file();
    for _ in 0..1 + messy.below(3) {
        let mut at = messy.below(text.len().max(1));
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + 1 + messy.below(4)).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        match messy.below(3) {
            0 if at < text.len() => {
                text.replace_range(at..end, "");
            }
            1 => {
                let piece = text[at..end].to_owned();
                text.insert_str(at, &piece);
            }
            _ => {
                let piece = *messy.pick(PIECES);
                text.insert_str(at, piece);
            }
        }
    }
    text
}

#[test]
fn unicode_keys_and_labels_match_terraform() {
    // Alignment counts grapheme clusters, and labels are re-escaped by Go's idea of printable.
    // Pieces are separated by spaces.
    const KEY_PIECES: &str = "a é e\u{301} \u{308} 日本 👍 🏽 \u{200D} 👩 🇫 🇷 \u{1100} \u{1161} \u{11A8} 각 \
        न \u{94D} त \u{947} க \u{BCD} ก \u{E33} \u{FE0F} \u{A0} \u{200B} \u{AD} \u{3000} \u{E000} \
        \u{2028} \u{1F3F3} \u{1F308} 😀 ß Ω \u{20DD} \u{FEFF} \u{1D173} \u{10FFFD} \u{378}";
    // Terraform also puts a label it rewrites in Unicode normal form C, which `format_source`
    // does not (a known difference): labels here have no combining marks nor jamo.
    const LABEL_PIECES: &str = "a é 日本 👍 각 न ก \u{A0} \u{200B} \u{AD} \u{3000} \u{E000} \u{2028} 😀 ß \
        Ω \u{FEFF} \u{1D173} \u{10FFFD} \u{378} \u{7F} \u{85}";
    fn text(messy: &mut Messy, pieces: &str) -> String {
        let pieces: Vec<&str> = pieces.split(' ').collect();
        (0..1 + messy.below(4))
            .map(|_| *messy.pick(&pieces))
            .collect()
    }
    let cases: Vec<Case> = (0..messy_count(200))
        .map(|seed| {
            let mut messy = Messy::new(100_000 + seed);
            let mut text_of_case = String::from("m = {\n");
            for _ in 0..1 + messy.below(5) {
                let key = text(&mut messy, KEY_PIECES);
                text_of_case.push_str(&format!("  \"{key}\" = 1 # c\n"));
            }
            text_of_case.push_str("  x = 2\n}\n");
            let label = text(&mut messy, LABEL_PIECES);
            text_of_case.push_str(&format!("b \"{label}\" x {{}}\n"));
            Case {
                label: format!("unicode input (seed {seed})"),
                text: text_of_case,
            }
        })
        .collect();
    assert_matches_terraform("unicode keys and labels", &cases);
}

#[test]
fn hand_written_edge_cases_match_terraform() {
    let texts = [
        "",
        "   ",
        "\n\n\na = 1\n\n\n",
        "a = 1   ",
        "a = 1 # no line end",
        "a = 1 /* at the end */",
        "\u{FEFF}a=1\r\nb  = 2\r\n",
        "a=1\r\nb=2",
        "resource x \"y\" { a = \"${var.x}\" }\n",
        "resource \"a\" /* dropped */ \"b\" /* kept */ {\n}\n",
        "b \"a$b\" \"c\" \"a%b\" \"$${\" \"\" {}\n",
        "b \"\\u00a0\" \"\\u0041\" \"\\t\" {}\n",
        "variable \"v\" {\n  type = \"string\"\n}\nvariable \"w\" { type = list }\nvariable \"x\" {\n  type = \"map\" # c\n  default = \"${ {} }\"\n}\n",
        "locals {\n  a = \"${x ?\n  1 : 2}\"\n  b = \"${\n  y\n  }\"\n  c = \"${(z)}\"\n}\n",
        "m = {\n  \"é\" = 1\n  \"e\u{301}\u{301}\" = 2\n  \"日本\" = 3\n  \"👍🏽\" = 4\n  x = 5\n}\n",
        "x = <<EOT\n  ${ a }  \n  EOT\nEOT\ny = 1\n",
        "a {\n  b = [<<-EOT\n    x\n    EOT\n  , 2]\n  c = 3\n}\n",
        "a = [\n  1, # one\n  22, # two\n  ]\nbb = 2 // c\n",
        "a = {\nb = {\nc = {\n}\n}\n}\n",
        "a = [[[\n1\n]]]\nb = 2\n",
        "a = f(g(\n  1), [\n  2])\nb = 3\n",
    ];
    let cases: Vec<Case> = texts
        .iter()
        .enumerate()
        .map(|(index, text)| Case {
            label: format!("edge case #{index}"),
            text: (*text).to_owned(),
        })
        .collect();
    assert_matches_terraform("hand-written edge cases", &cases);
}

/// A deterministic generator of valid but badly laid out configurations: random blanks and
/// tabs between tokens, random indentation, trailing blanks, comments of the three kinds, blank
/// lines, `\r\n` files, and every expression form (templates, heredocs, `for`, conditionals,
/// splats, operators, function calls, nested and one-line objects, long and multi-line lists),
/// plus the legacy forms Terraform rewrites (unquoted labels, `"${x}"`, quoted types).
struct Messy {
    state: u64,
    out: String,
    line_end: &'static str,
    heredocs: usize,
    /// The attribute names used in each open body, innermost last (a name is set once per body).
    names: Vec<Vec<String>>,
}

impl Messy {
    fn new(seed: u64) -> Messy {
        Messy {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03,
            out: String::new(),
            line_end: "\n",
            heredocs: 0,
            names: Vec::new(),
        }
    }

    /// splitmix64.
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut value = self.state;
        value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        value ^ (value >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len())]
    }

    fn push(&mut self, text: &str) {
        self.out.push_str(text);
    }

    fn file(&mut self) -> String {
        if self.chance(15) {
            self.line_end = "\r\n";
        }
        if self.chance(5) {
            self.push("\u{FEFF}");
        }
        let items = 1 + self.below(6);
        self.body(0, items);
        let ends_heredoc = self.out.ends_with(&format!("EOT{}", self.line_end));
        if !ends_heredoc && self.chance(20) {
            // No final line end, maybe a blank or a comment instead.
            let end = self.line_end.len();
            self.out.truncate(self.out.len() - end);
            let tail = *self.pick(&["", "  ", "\t", " # last", " /* last */"]);
            self.push(tail);
        }
        std::mem::take(&mut self.out)
    }

    /// Blank where a space is optional.
    fn gap(&mut self) {
        let blank = *self.pick(&["", "", " ", " ", "  ", "\t", "   "]);
        self.push(blank);
    }

    /// Blank where a space is needed.
    fn space(&mut self) {
        let blank = *self.pick(&[" ", " ", "  ", "\t", "    "]);
        self.push(blank);
    }

    fn indent(&mut self, depth: usize) {
        let width = match self.below(4) {
            0 => 0,
            1 => depth * 2,
            2 => depth * 4 + 1,
            _ => self.below(7),
        };
        self.push(&" ".repeat(width));
        if self.chance(5) {
            self.push("\t");
        }
    }

    /// The end of an item's line: maybe trailing blank, maybe a comment.
    fn end_line(&mut self) {
        if self.chance(15) {
            self.gap();
        }
        match self.below(10) {
            0 => {
                self.gap();
                let comment = *self.pick(&["# note", "// note  ", "#", "# a = b", "// x = { y }"]);
                self.push(comment);
            }
            1 => {
                self.gap();
                self.push("/* inline */");
                self.gap();
            }
            _ => {}
        }
        let line_end = self.line_end;
        self.push(line_end);
    }

    /// An attribute name not yet used in the current body.
    fn name(&mut self) -> String {
        let base = *self.pick(&[
            "a",
            "name",
            "vm_size",
            "x",
            "long_attribute_name",
            "b-c",
            "count",
            "for_each",
            "tags",
            "in",
        ]);
        let used = self.names.last().map_or(0, |names| {
            names.iter().filter(|name| name.starts_with(base)).count()
        });
        let name = if used == 0 {
            base.to_owned()
        } else {
            format!("{base}{used}")
        };
        if let Some(names) = self.names.last_mut() {
            names.push(name.clone());
        }
        name
    }

    fn body(&mut self, depth: usize, items: usize) {
        self.names.push(Vec::new());
        for _ in 0..items {
            match self.below(12) {
                0 => {
                    let line_end = self.line_end;
                    self.push(line_end);
                }
                1 => {
                    self.indent(depth);
                    let comment = *self.pick(&[
                        "# comment",
                        "// comment",
                        "/* block */",
                        "/*\n  multi\n   line\n*/",
                    ]);
                    self.push(comment);
                    self.end_line();
                }
                2..=4 if depth < 3 => self.block(depth),
                _ => self.attribute(depth),
            }
        }
        self.names.pop();
    }

    fn block(&mut self, depth: usize) {
        self.indent(depth);
        let (kind, labels) = *self.pick(&[
            ("resource", 2),
            ("data", 2),
            ("variable", 1),
            ("locals", 0),
            ("output", 1),
            ("module", 1),
            ("dynamic", 1),
            ("settings", 0),
            ("lifecycle", 0),
        ]);
        self.push(kind);
        for index in 0..labels {
            self.space();
            if index > 0 && self.chance(10) {
                self.push("/* between */");
                self.gap();
            }
            if self.chance(20) {
                let label = *self.pick(&["azureml_workspace", "main", "x"]);
                self.push(label);
            } else {
                let label = *self.pick(&[
                    "\"azureml_compute_cluster\"",
                    "\"gpu\"",
                    "\"a b\"",
                    "\"\"",
                    "\"tab\\t\"",
                    "\"cost$\"",
                    "\"é\"",
                ]);
                self.push(label);
            }
        }
        self.gap();
        if kind == "variable" && self.chance(50) {
            self.push("{");
            self.end_line();
            self.indent(depth + 1);
            self.push("type");
            self.gap();
            self.push("=");
            self.gap();
            let legacy = *self.pick(&[
                "\"string\"",
                "\"list\"",
                "\"map\"",
                "list",
                "map",
                "set",
                "string",
                "list(number)",
                "\"set\"",
            ]);
            self.push(legacy);
            self.end_line();
            let items = self.below(3);
            self.body(depth + 1, items);
            self.indent(depth);
            self.push("}");
            self.end_line();
            return;
        }
        match self.below(6) {
            0 => {
                self.push("{}");
            }
            1 => {
                // One-line block: a single attribute.
                self.push("{");
                self.gap();
                self.names.push(Vec::new());
                let name = self.name();
                self.names.pop();
                self.push(&name);
                self.gap();
                self.push("=");
                self.gap();
                self.expression(0, false);
                self.gap();
                self.push("}");
            }
            _ => {
                self.push("{");
                self.end_line();
                let items = self.below(5);
                self.body(depth + 1, items);
                self.indent(depth);
                self.push("}");
            }
        }
        self.end_line();
    }

    fn attribute(&mut self, depth: usize) {
        self.indent(depth);
        let name = self.name();
        self.push(&name);
        self.gap();
        self.push("=");
        self.gap();
        if self.chance(8) && self.heredocs < 2 {
            self.heredoc();
            return;
        }
        if self.chance(8) {
            self.push("\"${");
            self.gap();
            self.expression(1, true);
            self.gap();
            self.push("}\"");
        } else {
            self.expression(0, false);
        }
        self.end_line();
    }

    fn heredoc(&mut self) {
        self.heredocs += 1;
        let indented = self.chance(50);
        self.push(if indented { "<<-EOT" } else { "<<EOT" });
        let line_end = self.line_end;
        self.push(line_end);
        for _ in 0..1 + self.below(4) {
            let line = *self.pick(&[
                "  plain text   ",
                "key = value",
                "  ${ var.x }  and ${local.y}",
                "%{ if a }yes%{ else }no%{ endif }",
                "   EOT is not the end here",
                "$${escaped} and %%{escaped}",
                "",
                "\tTabbed {",
            ]);
            self.push(line);
            self.push(line_end);
        }
        if indented {
            let blank = *self.pick(&["", "  ", "    "]);
            self.push(blank);
        }
        self.push("EOT");
        self.push(line_end);
    }

    /// An expression; `lines` says whether line breaks are allowed around its tokens (inside
    /// parentheses, brackets and template sequences).
    fn expression(&mut self, depth: usize, lines: bool) {
        let choice = if depth > 3 {
            self.below(4)
        } else {
            self.below(20)
        };
        match choice {
            0 => {
                let number = *self.pick(&["1", "42", "0.5", "1e3", "1.5E-2", "100", "1.E2", "007"]);
                self.push(number);
            }
            1 => {
                let literal =
                    *self.pick(&["true", "false", "null", "var.x", "local.a_b", "each.value"]);
                self.push(literal);
            }
            2 => self.string(),
            3 => {
                let reference = *self.pick(&[
                    "var.list.0",
                    "var.list[0]",
                    "azureml_workspace.main.id",
                    "var.map[\"k\"]",
                    "module.m.out",
                    "count.index",
                    "path.module",
                ]);
                self.push(reference);
            }
            4 => {
                // Splats and traversals, with optional blanks.
                self.push("var.items");
                self.gap();
                let splat = *self.pick(&[
                    "[*].id",
                    "[ * ].name",
                    ".*.id",
                    "[0].x",
                    "[var.i]",
                    ".*[0]",
                    ".*.a[0].*.b",
                    ".0.a",
                ]);
                self.push(splat);
            }
            5 | 6 => self.binary(depth, lines),
            7 => {
                let operator = *self.pick(&["-", "!"]);
                self.push(operator);
                self.gap();
                self.expression(depth + 4, lines);
            }
            8 => {
                self.expression(depth + 1, lines);
                self.space();
                self.push("?");
                self.break_or_gap(lines);
                self.expression(depth + 1, lines);
                self.space();
                self.push(":");
                self.break_or_gap(lines);
                self.expression(depth + 1, lines);
            }
            9 => {
                self.push("(");
                self.break_or_gap(true);
                self.expression(depth + 1, true);
                self.break_or_gap(true);
                self.push(")");
            }
            10 | 11 => self.tuple(depth),
            12 | 13 => self.object(depth),
            14 => self.call(depth),
            15 => {
                // A list `for`.
                self.push("[");
                self.gap();
                self.push("for");
                self.space();
                self.push("v");
                self.space();
                self.push("in");
                self.space();
                self.expression(depth + 2, true);
                self.gap();
                self.push(":");
                self.break_or_gap(true);
                self.expression(depth + 2, true);
                if self.chance(40) {
                    self.space();
                    self.push("if");
                    self.space();
                    self.expression(depth + 2, true);
                }
                self.gap();
                self.push("]");
            }
            16 => {
                // An object `for`, maybe grouping.
                self.push("{");
                self.gap();
                self.push("for");
                self.space();
                self.push("k");
                self.gap();
                self.push(",");
                self.gap();
                self.push("v");
                self.space();
                self.push("in");
                self.space();
                self.expression(depth + 2, false);
                self.gap();
                self.push(":");
                self.gap();
                self.push("k");
                self.gap();
                self.push("=>");
                self.gap();
                self.expression(depth + 2, false);
                if self.chance(30) {
                    self.gap();
                    self.push("...");
                }
                self.gap();
                self.push("}");
            }
            17 => {
                let template = *self.pick(&[
                    "\"%{ for x in var.l }${ x },%{ endfor }\"",
                    "\"%{if var.b~} yes %{~else} no %{endif}\"",
                    "\"${ {a=1} }\"",
                    "\"${ \"${var.nested}\" }\"",
                    "\"$${not} %%{an interpolation}\"",
                    "\"a${var.x}b${var.y}\"",
                ]);
                self.push(template);
            }
            18 => {
                // Objects side by side in a list: lines that close one and open the next.
                self.push("[{");
                let line_end = self.line_end;
                for index in 0..1 + self.below(3) {
                    if index > 0 {
                        self.push(line_end);
                        let closing = *self.pick(&["}, {", "},{", "  } ,  {"]);
                        self.push(closing);
                    }
                    self.push(line_end);
                    self.indent(depth + 1);
                    let key = *self.pick(&["a", "long_key", "\"k\""]);
                    self.push(key);
                    self.gap();
                    self.push("=");
                    self.gap();
                    self.expression(depth + 2, false);
                }
                self.push(line_end);
                self.push("}]");
            }
            _ => {
                self.push("\"${");
                self.gap();
                self.expression(depth + 1, true);
                self.gap();
                self.push("}\"");
            }
        }
    }

    /// A line break (with indentation) or blank, where line breaks are allowed.
    fn break_or_gap(&mut self, lines: bool) {
        if lines && self.chance(15) {
            let line_end = self.line_end;
            self.push(line_end);
            let width = self.below(9);
            self.push(&" ".repeat(width));
        } else {
            self.gap();
        }
    }

    fn binary(&mut self, depth: usize, lines: bool) {
        self.expression(depth + 2, lines);
        let operator = *self.pick(&[
            "+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||",
        ]);
        // An identifier takes a `-` that follows it (`a-b` is one name).
        if operator == "-" {
            self.space();
        } else {
            self.gap();
        }
        self.push(operator);
        self.break_or_gap(lines);
        // A `-` right after an operator is a negation; keep it apart from `-`, `/` and `*`.
        if matches!(operator, "-" | "/" | "*") {
            self.push(" ");
        }
        self.expression(depth + 2, lines);
    }

    fn string(&mut self) {
        let text = *self.pick(&[
            "\"Standard_DS3_v2\"",
            "\"with \\\"quotes\\\" and \\\\ \"",
            "\"tab\\there\"",
            "\"\"",
            "\"  spaced  \"",
            "\"é ü 日本\"",
            "\"${var.prefix}-name\"",
            "\"${ var.a }${ var.b }\"",
            "\"50%\"",
            "\"cost: $5\"",
        ]);
        self.push(text);
    }

    fn tuple(&mut self, depth: usize) {
        self.push("[");
        let count = self.below(5);
        let multi_line = count > 0 && self.chance(40);
        if multi_line {
            let line_end = self.line_end;
            self.push(line_end);
            for index in 0..count {
                let width = self.below(8);
                self.push(&" ".repeat(width));
                if self.chance(10) {
                    self.push("/* before */");
                    self.gap();
                }
                if self.chance(8) && self.heredocs < 2 {
                    // A heredoc item: its closing marker line ends the line, the comma follows.
                    self.heredoc();
                    let width = self.below(4);
                    self.push(&" ".repeat(width));
                    self.push(",");
                    self.push(line_end);
                    continue;
                }
                self.expression(depth + 1, true);
                self.gap();
                if index + 1 < count || self.chance(60) {
                    self.push(",");
                }
                if self.chance(25) {
                    self.gap();
                    let comment = *self.pick(&["# item", "// item"]);
                    self.push(comment);
                }
                self.push(line_end);
            }
            let width = self.below(5);
            self.push(&" ".repeat(width));
        } else {
            for index in 0..count {
                self.gap();
                self.expression(depth + 1, true);
                self.gap();
                if index + 1 < count {
                    self.push(",");
                }
            }
            if count > 0 && self.chance(20) {
                self.push(",");
            }
            self.gap();
        }
        self.push("]");
    }

    fn object(&mut self, depth: usize) {
        self.push("{");
        let count = self.below(5);
        let multi_line = count > 0 && self.chance(60);
        let line_end = self.line_end;
        if multi_line {
            self.push(line_end);
        }
        for index in 0..count {
            if multi_line {
                let width = self.below(9);
                self.push(&" ".repeat(width));
            } else {
                self.gap();
            }
            let key = *self.pick(&[
                "a",
                "key",
                "\"quoted key\"",
                "long_key_name",
                "(var.k)",
                "\"é\"",
                "b-c",
            ]);
            self.push(key);
            self.gap();
            let separator = if self.chance(15) { ":" } else { "=" };
            self.push(separator);
            self.gap();
            self.expression(depth + 1, false);
            if multi_line {
                if self.chance(30) {
                    self.gap();
                    self.push(",");
                }
                if self.chance(25) {
                    self.gap();
                    let comment = *self.pick(&["# why", "// why"]);
                    self.push(comment);
                }
                self.push(line_end);
                if self.chance(10) {
                    self.push(line_end);
                }
            } else if index + 1 < count {
                self.gap();
                self.push(",");
            }
        }
        if multi_line {
            let width = self.below(5);
            self.push(&" ".repeat(width));
        } else {
            self.gap();
        }
        self.push("}");
    }

    fn call(&mut self, depth: usize) {
        let function = *self.pick(&[
            "merge",
            "lookup",
            "format",
            "concat",
            "tolist",
            "jsonencode",
            "max",
        ]);
        self.push(function);
        self.push("(");
        let count = self.below(4);
        let multi_line = count > 0 && self.chance(30);
        for index in 0..count {
            if multi_line {
                let line_end = self.line_end;
                self.push(line_end);
                let width = self.below(8);
                self.push(&" ".repeat(width));
            } else {
                self.gap();
            }
            self.expression(depth + 1, true);
            self.gap();
            if index + 1 < count {
                self.push(",");
            } else if self.chance(20) {
                self.push("...");
            }
        }
        if multi_line {
            let line_end = self.line_end;
            self.push(line_end);
        }
        self.gap();
        self.push(")");
    }
}
