//! `yamlencode` and `yamldecode`. The workspace has no YAML crate, so both are written here.
//!
//! Encoding reproduces the output of Terraform's encoder (go-yaml's emitter as go-cty-yaml drives
//! it): block style, strings double-quoted (literal `|` style for multi-line strings the emitter
//! allows in that style), keys over 128 bytes or with line breaks as `? ` complex keys, empty
//! collections as `[]`/`{}`, long double-quoted strings folded past column 80, and `...` after a
//! top-level plain scalar.
//!
//! Decoding covers the YAML that configurations hold: block mappings and sequences (indentless
//! too), flow collections, plain, quoted and block scalars (`|`, `>`, chomping and indentation
//! indicators), comments, `---`/`...`, anchors, aliases and `<<` merge keys, and the tags
//! `!!str !!int !!float !!bool !!null !!binary !!timestamp !!map !!seq`. Plain scalars resolve
//! as go-cty-yaml resolves them (YAML 1.1 booleans such as `yes` and `on`, `~` and `null`,
//! decimal numbers with `_`, `0b` binary, timestamps as RFC 3339 strings). Complex (`?`) keys
//! and multiple documents are refused.

mod emitter;
mod parser;

use std::path::Path;

use engine::value::Value;

use self::emitter::{Context, Emitter};
use self::parser::Parser;
use super::string;

pub(super) fn yamlencode(args: &[Value], _: &Path) -> Result<Value, String> {
    let mut emitter = Emitter::default();
    emitter.node(&args[0], Context::Root)?;
    emitter.write_indent(-1);
    if emitter.open_ended {
        emitter.indicator("...", true, true);
        emitter.write_indent(-1);
    }
    Ok(Value::String(emitter.out))
}

pub(super) fn yamldecode(args: &[Value], _: &Path) -> Result<Value, String> {
    let text = string(&args[0], "src")?;
    Parser::new(&text).document()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{num, numbers, object, run, strings};
    use super::*;
    use pretty_assertions::assert_eq;

    #[track_caller]
    fn encoded(value: Value) -> String {
        match run("yamlencode", vec![value]) {
            Ok(Value::String(text)) => text,
            other => panic!("{other:?}"),
        }
    }

    #[track_caller]
    fn decoded(text: &str) -> Value {
        run("yamldecode", vec![text.into()]).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    #[test]
    fn documented_encodings() {
        assert_eq!(
            encoded(object(&[("a", "b".into()), ("c", "d".into())])),
            "\"a\": \"b\"\n\"c\": \"d\"\n"
        );
        assert_eq!(
            encoded(object(&[
                ("foo", numbers(&[1.0, 2.0, 3.0])),
                ("bar", "baz".into())
            ])),
            "\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n"
        );
        assert_eq!(
            encoded(object(&[
                (
                    "foo",
                    Value::List(vec![
                        1.into(),
                        object(&[("a", "b".into()), ("c", "d".into())]),
                        3.into()
                    ])
                ),
                ("bar", "baz".into())
            ])),
            "\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n"
        );
    }

    #[test]
    fn encoder_details() {
        assert_eq!(encoded(true.into()), "true\n...\n");
        assert_eq!(encoded(0.into()), "0\n...\n");
        assert_eq!(encoded(Value::Null), "null\n...\n");
        assert_eq!(encoded("".into()), "\"\"\n");
        assert_eq!(encoded("hello".into()), "\"hello\"\n");
        assert_eq!(encoded(object(&[])), "{}\n");
        assert_eq!(encoded(strings(&[])), "[]\n");
        assert_eq!(encoded(strings(&["b"])), "- \"b\"\n");
        assert_eq!(
            encoded(object(&[("a", strings(&[])), ("b", object(&[]))])),
            "\"a\": []\n\"b\": {}\n"
        );
        assert_eq!(
            encoded(object(&[(
                "a",
                object(&[("b", object(&[("c", num(1.5))]))])
            )])),
            "\"a\":\n  \"b\":\n    \"c\": 1.5\n"
        );
        assert_eq!(
            encoded(Value::List(vec![strings(&["a", "b"]), strings(&["c"])])),
            "- - \"a\"\n  - \"b\"\n- - \"c\"\n"
        );
        assert_eq!(
            encoded(object(&[("script", "echo hi\nexit 0\n".into())])),
            "\"script\": |\n  echo hi\n  exit 0\n"
        );
        assert_eq!(
            encoded(object(&[("s", "a\nb".into())])),
            "\"s\": |-\n  a\n  b\n"
        );
        assert_eq!(
            encoded(object(&[("s", "a\n\nb".into())])),
            "\"s\": |-\n  a\n\n  b\n"
        );
        assert_eq!(
            encoded(object(&[("s", " a\nb".into())])),
            "\"s\": |2-\n   a\n  b\n"
        );
        assert_eq!(
            encoded(object(&[("s", "a \nb".into())])),
            "\"s\": \"a \\nb\"\n"
        );
        assert_eq!(
            encoded(object(&[("s", "tab\there\n".into())])),
            "\"s\": \"tab\\there\\n\"\n"
        );
        assert_eq!(encoded(strings(&["x\ny"])), "- |-\n  x\n  y\n");
        assert_eq!(
            encoded("a\"b\\c\u{1}é😀".into()),
            "\"a\\\"b\\\\c\\x01é\\U0001F600\"\n"
        );
        let long = ["word"; 30].join(" ");
        assert_eq!(
            encoded(object(&[("k", long.clone().into())])),
            format!(
                "\"k\": \"{}\n  {}\"\n",
                ["word"; 16].join(" "),
                ["word"; 14].join(" ")
            )
        );
        let key = "k".repeat(129);
        assert_eq!(
            encoded(object(&[(key.as_str(), 1.into())])),
            format!("? \"{key}\"\n: 1\n")
        );
        assert_eq!(encoded(num(f64::INFINITY)), "+.Inf\n...\n");
        assert!(
            run("yamlencode", vec![Value::List(vec![Value::Unknown])])
                .is_ok_and(|value| value == Value::Unknown)
        );
    }

    #[test]
    fn documented_decodings() {
        assert_eq!(
            decoded("hello: world"),
            object(&[("hello", "world".into())])
        );
        assert_eq!(decoded("true"), true.into());
        assert_eq!(
            decoded("{a: &foo [1, 2, 3], b: *foo}"),
            object(&[
                ("a", numbers(&[1.0, 2.0, 3.0])),
                ("b", numbers(&[1.0, 2.0, 3.0]))
            ])
        );
        assert_eq!(
            decoded("{a: !!str 1, b: !!str true}"),
            object(&[("a", "1".into()), ("b", "true".into())])
        );
    }

    #[test]
    fn block_structures() {
        let text = "\
# a comment
name: demo   # trailing
count: 3
ratio: 1.5
enabled: yes
nothing:
tilde: ~
list:
- a
- 'b c'
-   \"d\\te\"
nested:
  inner:
    - x: 1
      w: [1, {z: 2}]
    - - deep
  other: \"multi
    line\"
folded: >
  one
  two

  three
literal: |
  keep
    indent
strip: |-
  last
when: 2001-12-14
";
        assert_eq!(
            decoded(text),
            object(&[
                ("name", "demo".into()),
                ("count", 3.into()),
                ("ratio", num(1.5)),
                ("enabled", true.into()),
                ("nothing", Value::Null),
                ("tilde", Value::Null),
                ("list", strings(&["a", "b c", "d\te"])),
                (
                    "nested",
                    object(&[
                        (
                            "inner",
                            Value::List(vec![
                                object(&[
                                    ("w", Value::List(vec![1.into(), object(&[("z", 2.into())])])),
                                    ("x", 1.into())
                                ]),
                                strings(&["deep"]),
                            ])
                        ),
                        ("other", "multi line".into()),
                    ])
                ),
                ("folded", "one two\nthree\n".into()),
                ("literal", "keep\n  indent\n".into()),
                ("strip", "last".into()),
                ("when", "2001-12-14T00:00:00Z".into()),
            ])
        );
    }

    #[test]
    fn scalars_resolve_as_terraform() {
        assert_eq!(decoded("1_000"), 1000.into());
        assert_eq!(decoded("0x1F"), "0x1F".into());
        assert_eq!(decoded("!!int 0x1F"), 31.into());
        assert_eq!(decoded("0b101"), 5.into());
        assert_eq!(decoded("012"), 12.into());
        assert_eq!(decoded("-.5"), num(-0.5));
        assert_eq!(decoded(".5"), num(0.5));
        assert_eq!(decoded("off"), false.into());
        assert_eq!(decoded("'yes'"), "yes".into());
        assert_eq!(
            decoded("2001-12-14t21:59:43.10-05:00"),
            "2001-12-14T21:59:43-05:00".into()
        );
        assert_eq!(
            decoded("2001-12-14 21:59:43.10"),
            "2001-12-14T21:59:43Z".into()
        );
        assert_eq!(
            decoded("1: a\ntrue: b"),
            object(&[("1", "a".into()), ("true", "b".into())])
        );
        assert_eq!(decoded("---\n"), Value::Null);
        assert_eq!(decoded("--- x\n...\n"), "x".into());
        assert_eq!(decoded("\"a\\x41\\u00e9\\\n  b\""), "aAéb".into());
        assert_eq!(decoded("'it''s'"), "it's".into());
        assert_eq!(
            decoded("plain\n  continued\n\n  para"),
            "plain continued\npara".into()
        );
        assert_eq!(decoded("x: |+\n  a\n\n"), object(&[("x", "a\n\n".into())]));
        assert_eq!(decoded("x: !!binary aGk="), object(&[("x", "aGk=".into())]));
    }

    #[test]
    fn merges_and_errors() {
        assert_eq!(
            decoded("base: &b {p: 1, q: 2}\nderived:\n  <<: *b\n  q: 3\n"),
            object(&[
                ("base", object(&[("p", 1.into()), ("q", 2.into())])),
                ("derived", object(&[("p", 1.into()), ("q", 3.into())])),
            ])
        );
        assert_eq!(
            decoded("y: 1\nno: 2"),
            object(&[("false", 2.into()), ("true", 1.into())])
        );
        assert_eq!(
            decoded("a: 1\n<<: {a: 2, b: 3}"),
            object(&[("a", 2.into()), ("b", 3.into())])
        );
        let error = |text: &str| run("yamldecode", vec![text.into()]).expect_err(text);
        assert!(error("a: 1\n---\nb: 2\n").contains("only a single document is allowed"));
        assert!(error("a: b: c").contains("mapping values are not allowed"));
        assert!(error("? complex\n: value").contains("complex mapping keys"));
        assert!(error("x: *missing").contains("reference to undefined anchor \"missing\""));
        assert!(error("<<: [{a: 1}]").contains("cannot merge tuple into mapping"));
        assert!(error("").contains("expecting value but found end of stream"));
        assert!(error("~: 1").contains("mapping key cannot be null"));
        assert!(error("x: !custom 1").contains("unsupported tag"));
        assert!(error("[1, 2").contains("did not find expected"));
        assert!(error("\"open").contains("unexpected end of stream"));
        assert!(error(&"[".repeat(100)).contains("nests deeper"));
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
        assert!(error(bomb).contains("elements"));
    }

    #[test]
    fn round_trips() {
        let value = object(&[
            (
                "a",
                Value::List(vec!["x".into(), num(2.5), true.into(), Value::Null]),
            ),
            (
                "b",
                object(&[
                    ("multi", "line one\nline two\n".into()),
                    ("q", "say \"hi\"".into()),
                ]),
            ),
            ("c", strings(&[])),
        ]);
        assert_eq!(decoded(&encoded(value.clone())), value);
    }
}
