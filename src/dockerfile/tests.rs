//! Parser tests. Spans are asserted as numbers, and each is also checked to cover the
//! expected source text, so an off-by-one shows up as readable text.

use std::ops::Range;
use std::time::Duration;

use super::*;

/// The source text a span covers.
fn at(text: &str, span: &Range<usize>) -> String {
    text.get(span.clone()).unwrap_or("<bad span>").to_string()
}

fn messages(errors: &[ParseError]) -> Vec<&str> {
    errors.iter().map(|e| e.message.as_str()).collect()
}

fn only(df: &Dockerfile) -> &Instruction {
    assert_eq!(df.instructions.len(), 1, "{:#?}", df.instructions);
    let Some(first) = df.instructions.first() else { unreachable!() };
    first
}

fn nth(df: &Dockerfile, index: usize) -> &Instruction {
    let Some(ins) = df.instructions.get(index) else { panic!("no instruction {index}: {:#?}", df.instructions) };
    ins
}

fn word_texts(words: &[Word]) -> Vec<&str> {
    words.iter().map(|w| w.text.as_str()).collect()
}

fn word_spans(words: &[Word]) -> Vec<Range<usize>> {
    words.iter().map(|w| w.span.clone()).collect()
}

#[test]
fn simple_from_and_run_spans() {
    let text = "FROM alpine:3.20 AS build\nRUN echo hi\n";
    let df = parse(text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    let from = nth(&df, 0);
    assert_eq!(from.keyword, Keyword::From);
    assert_eq!(from.keyword_span, 0..4);
    assert_eq!(from.span, 0..25);
    assert_eq!(word_spans(from.args.words()), vec![5..16, 17..19, 20..25]);
    let view = from.as_from();
    assert_eq!(view.map(|f| f.image.text.as_str()), Some("alpine:3.20"));
    assert_eq!(view.and_then(|f| f.stage_name).map(|w| w.span.clone()), Some(20..25));
    let run = nth(&df, 1);
    assert_eq!(run.keyword_span, 26..29);
    assert_eq!(run.span, 26..37);
    assert_eq!(run.args, Args::Shell(Word { text: "echo hi".into(), span: 30..37 }));
}

#[test]
fn keywords_are_case_insensitive() {
    let df = parse("from alpine as base\nrun true");
    assert_eq!(nth(&df, 0).keyword, Keyword::From);
    assert_eq!(nth(&df, 0).as_from().and_then(|f| f.stage_name).map(|w| w.text.as_str()), Some("base"));
    assert_eq!(nth(&df, 1).keyword, Keyword::Run);
    assert!(df.errors.is_empty());
}

#[test]
fn empty_file_and_only_comments() {
    let df = parse("");
    assert!(df.instructions.is_empty());
    assert_eq!(messages(&df.errors), vec!["the Dockerfile has no instructions"]);
    assert_eq!(df.errors.first().map(|e| e.span.clone()), Some(0..0));

    let text = "# just a comment\n\n   # another\n";
    let df = parse(text);
    assert!(df.instructions.is_empty());
    assert_eq!(df.trailing_comments.len(), 2);
    assert_eq!(
        df.trailing_comments.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
        vec!["just a comment", "another"]
    );
    assert_eq!(df.trailing_comments.iter().map(|c| c.span.clone()).collect::<Vec<_>>(), vec![0..16, 21..30]);
    assert_eq!(messages(&df.errors), vec!["the Dockerfile has no instructions"]);
}

#[test]
fn directives_at_the_top() {
    let text = "# syntax=docker/dockerfile:1\n#ESCAPE = `\n# check=skip=JSONArgsRecommended\nFROM x";
    let df = parse(text);
    let names: Vec<&str> = df.directives.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["syntax", "escape", "check"]);
    assert_eq!(df.escape, '`');
    let syntax = df.directive("syntax");
    assert_eq!(syntax.map(|d| d.span.clone()), Some(0..28));
    assert_eq!(syntax.map(|d| d.value_span.clone()), Some(9..28));
    assert_eq!(syntax.map(|d| d.value.as_str()), Some("docker/dockerfile:1"));
    assert_eq!(df.directive("escape").map(|d| d.value_span.clone()), Some(39..40));
    assert!(df.errors.is_empty(), "{:?}", df.errors);
}

#[test]
fn directives_only_count_before_anything_else() {
    // After a comment, a blank line or an instruction, `# escape=` is just a comment.
    for text in ["# hello\n# escape=`\nFROM x", "\n# escape=`\nFROM x", "FROM x\n# escape=`\nRUN a"] {
        let df = parse(text);
        assert!(df.directives.is_empty(), "{text:?}");
        assert_eq!(df.escape, '\\');
    }
    let df = parse("# unknown=1\n# escape=`\nFROM x");
    assert!(df.directives.is_empty());
    assert_eq!(nth(&df, 0).comments_before.len(), 2);
}

#[test]
fn repeated_and_invalid_directives() {
    let df = parse("# escape=`\n# escape=\\\nFROM x");
    assert_eq!(messages(&df.errors), vec!["only one `escape` parser directive can be used"]);
    assert_eq!(df.errors.first().map(|e| e.span.clone()), Some(11..21));
    assert_eq!(df.escape, '`');
    let df = parse("# escape=x\nFROM x");
    assert_eq!(messages(&df.errors), vec!["invalid escape token `x`"]);
    assert_eq!(df.errors.first().map(|e| e.span.clone()), Some(9..10));
}

#[test]
fn bom_is_skipped_and_spans_stay_in_the_original() {
    let text = "\u{feff}# escape=`\nFROM x";
    let df = parse(text);
    assert_eq!(df.escape, '`');
    assert_eq!(df.directives.first().map(|d| d.span.clone()), Some(3..13));
    let from = only(&df);
    assert_eq!(from.keyword_span, 14..18);
    assert_eq!(at(text, &from.span), "FROM x");
}

#[test]
fn windows_escape_and_paths() {
    let text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nCOPY testfile.txt c:\\\nRUN dir c:\\ `\n    /s\nWORKDIR C:\\app\\bin";
    let df = parse(text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    let copy = nth(&df, 1);
    assert_eq!(word_texts(copy.args.words()), vec!["testfile.txt", "c:\\"]);
    assert_eq!(copy.span, 53..74);
    let run = nth(&df, 2);
    let Args::Shell(shell) = &run.args else { panic!("{:?}", run.args) };
    assert_eq!(shell.text, "dir c:\\     /s");
    assert_eq!(shell.span, 79..95);
    assert_eq!(at(text, &run.span), "RUN dir c:\\ `\n    /s");
    let workdir = nth(&df, 3);
    assert_eq!(workdir.as_workdir().map(|w| w.text.as_str()), Some("C:\\app\\bin"));
    assert_eq!(workdir.as_workdir().map(|w| at(text, &w.span)), Some("C:\\app\\bin".to_string()));
}

#[test]
fn continuation_with_comments_and_blank_lines_inside() {
    let text = "FROM x\nRUN apt-get update \\\n# a comment\n  && apt-get install -y \\\n\n    curl\nEXPOSE 80";
    let df = parse(text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    let run = nth(&df, 1);
    let Args::Shell(shell) = &run.args else { panic!("{:?}", run.args) };
    assert_eq!(shell.text, "apt-get update   && apt-get install -y     curl");
    assert_eq!(shell.span, 11..75);
    assert_eq!(at(text, &run.span), "RUN apt-get update \\\n# a comment\n  && apt-get install -y \\\n\n    curl");
    assert_eq!(run.comments_inside.len(), 1);
    assert_eq!(run.comments_inside.first().map(|c| c.span.clone()), Some(28..39));
    assert_eq!(messages(&df.warnings), vec!["empty continuation line"]);
    assert_eq!(df.warnings.first().map(|w| w.span.clone()), Some(66..66));
    assert_eq!(nth(&df, 2).keyword_span, 76..82);
}

#[test]
fn word_spanning_a_continuation_maps_both_ends() {
    let text = "FROM x\nCOPY a\\\nb /dst/";
    let df = parse(text);
    let copy = nth(&df, 1);
    assert_eq!(word_texts(copy.args.words()), vec!["ab", "/dst/"]);
    assert_eq!(word_spans(copy.args.words()), vec![12..16, 17..22]);
}

#[test]
fn crlf_line_endings() {
    let text = "FROM x AS a\r\nRUN echo one \\\r\n  two\r\nENV A=1\r\n";
    let df = parse(text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    assert_eq!(nth(&df, 0).span, 0..11);
    let run = nth(&df, 1);
    assert_eq!(run.args.text().map(|w| w.text.as_str()), Some("echo one   two"));
    assert_eq!(at(text, &run.span), "RUN echo one \\\r\n  two");
    let env = nth(&df, 2);
    assert_eq!(env.span, 36..43);
}

#[test]
fn exec_form_and_fallback_to_shell() {
    let text = "FROM x\nCMD [\"node\", \"server.js\"]\nENTRYPOINT ['sh', '-c']\nRUN [\"a\", 1]";
    let df = parse(text);
    let cmd = nth(&df, 1);
    let Some(Command::Exec(argv)) = cmd.as_command() else { panic!("{:?}", cmd.args) };
    assert_eq!(word_texts(argv), vec!["node", "server.js"]);
    assert_eq!(word_spans(argv), vec![12..18, 20..31]);
    // Single quotes are not JSON: Docker runs it in shell form.
    let entrypoint = nth(&df, 2);
    let Some(Command::Shell(shell)) = entrypoint.as_command() else { panic!("{:?}", entrypoint.args) };
    assert_eq!(shell.text, "['sh', '-c']");
    assert_eq!(shell.span, 44..56);
    assert_eq!(messages(&df.warnings), vec!["not valid JSON: this runs in shell form"]);
    assert_eq!(messages(&df.errors), vec!["JSON array must contain only strings"]);
    assert_eq!(df.errors.first().map(|e| at(text, &e.span)), Some("[\"a\", 1]".to_string()));
}

#[test]
fn exec_form_spanning_lines() {
    let text = "FROM x\nCMD [\"a\", \\\n     \"b\"]";
    let df = parse(text);
    let Some(Command::Exec(argv)) = nth(&df, 1).as_command() else { panic!() };
    assert_eq!(word_spans(argv), vec![12..15, 24..27]);
}

#[test]
fn env_pairs_and_legacy_form() {
    let text = "FROM x\nENV a=1 b=\"two words\" c=three\\ words\nENV legacy some value here";
    let df = parse(text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    let Some(env) = nth(&df, 1).as_env() else { panic!() };
    assert!(!env.legacy);
    let keys: Vec<&str> = env.pairs.iter().map(|p| p.key.text.as_str()).collect();
    let values: Vec<&str> = env.pairs.iter().map(|p| p.value.text.as_str()).collect();
    assert_eq!(keys, vec!["a", "b", "c"]);
    assert_eq!(values, vec!["1", "\"two words\"", "three\\ words"]);
    assert_eq!(env.pairs.iter().map(|p| p.key.span.clone()).collect::<Vec<_>>(), vec![11..12, 15..16, 29..30]);
    assert_eq!(env.pairs.iter().map(|p| p.value.span.clone()).collect::<Vec<_>>(), vec![13..14, 17..28, 31..43]);
    let unquoted: Vec<String> = values.iter().filter_map(|v| unquote(v, '\\').ok()).collect();
    assert_eq!(unquoted, vec!["1", "two words", "three words"]);

    let Some(legacy) = nth(&df, 2).as_env() else { panic!() };
    assert!(legacy.legacy);
    let Some(pair) = legacy.pairs.first() else { panic!() };
    assert_eq!((pair.key.text.as_str(), pair.key.span.clone()), ("legacy", 48..54));
    assert_eq!((pair.value.text.as_str(), pair.value.span.clone()), ("some value here", 55..70));
}

#[test]
fn env_errors() {
    let df = parse("FROM x\nENV onlykey\nENV a=1 b\nLABEL");
    assert_eq!(
        messages(&df.errors),
        vec!["ENV must have two arguments", "can't find `=` in `b`", "LABEL requires at least one argument"]
    );
    assert_eq!(df.errors.get(1).map(|e| e.span.clone()), Some(27..28));
    let df = parse("FROM x\nENV a=\"open");
    assert_eq!(messages(&df.errors), vec!["unterminated quote"]);
    assert_eq!(df.errors.first().map(|e| e.span.clone()), Some(13..18));
}

#[test]
fn label_pairs() {
    let text = "FROM x\nLABEL org.opencontainers.image.title=\"My app\" version=1.0";
    let df = parse(text);
    let Some(labels) = nth(&df, 1).as_label() else { panic!() };
    assert_eq!(labels.pairs.len(), 2);
    assert_eq!(labels.pairs.first().map(|p| at(text, &p.key.span)), Some("org.opencontainers.image.title".to_string()));
}

#[test]
fn flags_with_values_and_spans() {
    let text = "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM x\nCOPY --from=build --chown=1000:1000 --chmod=755 --link /out /app\nRUN --mount=type=cache,target=\"/root/.cache\" --network=none -- make";
    let df = parse(text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    let from = nth(&df, 0);
    let Some(platform) = from.flag("platform") else { panic!() };
    assert_eq!(platform.span, 5..30);
    assert_eq!(platform.value.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(platform.value_span, Some(16..30));
    assert_eq!(from.as_from().map(|f| f.image.span.clone()), Some(31..42));

    let copy = nth(&df, 2);
    let Some(view) = copy.as_copy() else { panic!() };
    assert_eq!(view.from.map(|f| (f.value.as_deref(), f.span.clone())), Some((Some("build"), 64..76)));
    assert_eq!(view.chown.and_then(|f| f.value.as_deref()), Some("1000:1000"));
    assert_eq!(view.chmod.and_then(|f| f.value_span.clone()), Some(103..106));
    assert!(view.link);
    assert_eq!(copy.flag("link").map(|f| (f.value.clone(), f.span.clone())), Some((None, 107..113)));
    assert_eq!(word_texts(view.sources), vec!["/out"]);
    assert_eq!(view.destination.span, 119..123);

    let run = nth(&df, 3);
    let Some(view) = run.as_run() else { panic!() };
    let mounts: Vec<Option<&str>> = view.mounts.iter().map(|f| f.value.as_deref()).collect();
    assert_eq!(mounts, vec![Some("type=cache,target=/root/.cache")]);
    assert_eq!(
        view.mounts.first().map(|f| at(text, &f.span)),
        Some("--mount=type=cache,target=\"/root/.cache\"".to_string())
    );
    assert_eq!(view.network.and_then(|f| f.value.as_deref()), Some("none"));
    let Command::Shell(shell) = view.command else { panic!() };
    assert_eq!(shell.text, "make");
}

#[test]
fn flag_errors() {
    let text =
        "FROM x\nCOPY --form=a b c\nRUN --mount echo\nCOPY --link=maybe a b\nCOPY --from=a --from=b c d\nENV --x=1 a=b";
    let df = parse(text);
    assert_eq!(
        messages(&df.errors),
        vec![
            "unknown flag `--form` for COPY",
            "flag `--mount` needs a value",
            "flag `--link` takes true or false",
            "duplicate flag `--from`",
            "unknown flag `--x` for ENV",
        ]
    );
    assert_eq!(df.errors.first().and_then(|e| e.help.as_deref()), Some("did you mean `--from`?"));
    assert_eq!(df.errors.first().map(|e| e.span.clone()), Some(12..20));
}

#[test]
fn heredocs_several_per_run() {
    let text = "FROM x\nRUN <<A cat - <<\"B\"\nfirst $x\nA\nsecond $x\nB\nEXPOSE 80";
    let df = parse(text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    let run = nth(&df, 1);
    assert_eq!(run.heredocs.len(), 2);
    let Some(a) = run.heredocs.first() else { panic!() };
    assert_eq!((a.delimiter.as_str(), a.quoted, a.strip_tabs), ("A", false, false));
    assert_eq!(a.body, "first $x\n");
    assert_eq!(a.span, 11..14);
    assert_eq!(a.body_span, 27..37);
    assert_eq!(at(text, &a.body_span), "first $x\nA");
    let Some(b) = run.heredocs.get(1) else { panic!() };
    assert_eq!((b.delimiter.as_str(), b.quoted), ("B", true));
    assert_eq!(b.body, "second $x\n");
    assert_eq!(at(text, &b.span), "<<\"B\"");
    assert_eq!(b.body_span, 38..49);
    assert_eq!(run.span, 7..49);
    assert_eq!(run.args.text().map(|w| w.text.as_str()), Some("<<A cat - <<\"B\""));
    assert_eq!(nth(&df, 2).keyword, Keyword::Expose);
}

#[test]
fn heredoc_strip_tabs_quotes_fd_and_comment_lines() {
    let text = "FROM x\nRUN 3<<-'EOT' python3\n\timport os\n\t\t# not a comment\n\tEOT\n# a real comment\nCOPY <<EOF /etc/conf\nk=v\nEOF";
    let df = parse(text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    let run = nth(&df, 1);
    let Some(doc) = run.heredocs.first() else { panic!() };
    assert_eq!((doc.delimiter.as_str(), doc.quoted, doc.strip_tabs, doc.fd), ("EOT", true, true, Some(3)));
    assert_eq!(doc.body, "import os\n# not a comment\n");
    assert_eq!(at(text, &doc.body_span), "\timport os\n\t\t# not a comment\n\tEOT");
    let copy = nth(&df, 2);
    assert_eq!(copy.comments_before.first().map(|c| c.text.as_str()), Some("a real comment"));
    let Some(view) = copy.as_copy() else { panic!() };
    assert_eq!(view.destination.text, "/etc/conf");
    assert_eq!(view.heredocs.first().map(|h| h.body.as_str()), Some("k=v\n"));
    assert_eq!(copy.span.end, text.len());
}

#[test]
fn not_heredocs() {
    // `<<<` is a here-string; `<<- EOF` is two words to BuildKit (only `<<` keeps the blanks
    // after it); `<<''` unquotes to nothing; `<<` alone names nothing; `<<<  EOF` pairs the
    // first two `<`, so the third keeps no blanks; heredocs are only read for RUN/COPY/ADD.
    let text =
        "FROM x\nRUN cat <<<word\nRUN cat <<- EOF\nRUN cat <<''\nRUN cat <<\nRUN cat <<<  EOF\nCMD cat <<EOF\nEXPOSE 1";
    let df = parse(text);
    assert!(df.instructions.iter().all(|i| i.heredocs.is_empty()));
    assert_eq!(df.instructions.len(), 8);
}

/// BuildKit (dockerfile 1.16+) lets blanks follow `<<`, and a quoted delimiter hold blanks.
#[test]
fn heredoc_markers_buildkit_accepts() {
    let text = "FROM x\nRUN <<  EOF\nEOF\nRUN <<  EOF  > /out\necho a\nEOF\nRUN <<'one two'\necho bar\none two\nRUN << -EOF\n-EOF\nRUN <<\tA cat - << \"B\"\na\nA\nb\nB\nEXPOSE 1";
    let df = parse(text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    let docs = |n: usize| -> Vec<(String, String, bool)> {
        nth(&df, n).heredocs.iter().map(|h| (h.delimiter.clone(), h.body.clone(), h.quoted)).collect()
    };
    let one = |name: &str, body: &str, quoted: bool| vec![(name.to_string(), body.to_string(), quoted)];
    assert_eq!(docs(1), one("EOF", "", false));
    assert_eq!(nth(&df, 1).heredocs.first().map(|h| at(text, &h.span)), Some("<<  EOF".to_string()));
    assert_eq!(docs(2), one("EOF", "echo a\n", false));
    assert_eq!(nth(&df, 2).args.text().map(|w| w.text.as_str()), Some("<<  EOF  > /out"));
    assert_eq!(docs(3), one("one two", "echo bar\n", true));
    // `<< -EOF`: the `-` after a blank is part of the word, not the tab-stripping `<<-`.
    assert_eq!(docs(4), one("-EOF", "", false));
    assert_eq!(nth(&df, 4).heredocs.first().map(|h| h.strip_tabs), Some(false));
    assert_eq!(docs(5), [one("A", "a\n", false), one("B", "b\n", true)].concat());
    assert_eq!(nth(&df, 6).keyword, Keyword::Expose);
    assert_eq!(df.instructions.len(), 7);
}

#[test]
fn heredoc_crlf_body_is_normalised() {
    let text = "FROM x\r\nRUN <<EOF\r\necho a\r\nEOF\r\n";
    let df = parse(text);
    let doc = nth(&df, 1).heredocs.first().cloned();
    assert_eq!(doc.as_ref().map(|d| d.body.as_str()), Some("echo a\n"));
    assert_eq!(doc.map(|d| at(text, &d.body_span)), Some("echo a\r\nEOF".to_string()));
}

#[test]
fn unterminated_heredoc() {
    let text = "FROM x\nRUN <<EOF\necho a\nEOFX\n";
    let df = parse(text);
    assert_eq!(messages(&df.errors), vec!["unterminated heredoc `EOF`"]);
    assert_eq!(df.errors.first().map(|e| e.span.clone()), Some(11..16));
    let run = nth(&df, 1);
    assert_eq!(run.heredocs.first().map(|h| h.body.as_str()), Some("echo a\nEOFX\n"));
    assert_eq!(run.span, 7..text.len());
}

#[test]
fn onbuild_trigger() {
    let text = "FROM x\nONBUILD RUN echo hi\nONBUILD ONBUILD RUN x\nONBUILD COPY <<EOF /a\nbody\nEOF";
    let df = parse(text);
    let onbuild = nth(&df, 1);
    assert_eq!(onbuild.keyword, Keyword::Onbuild);
    assert_eq!(onbuild.span, 7..26);
    let Some(trigger) = onbuild.as_onbuild() else { panic!() };
    assert_eq!(trigger.keyword, Keyword::Run);
    assert_eq!(trigger.keyword_span, 15..18);
    assert_eq!(trigger.args.text().map(|w| w.span.clone()), Some(19..26));
    assert_eq!(messages(&df.errors), vec!["ONBUILD cannot trigger ONBUILD"]);
    assert_eq!(df.errors.first().map(|e| e.span.clone()), Some(35..42));
    let with_heredoc = nth(&df, 3);
    assert_eq!(with_heredoc.as_onbuild().map(|t| t.heredocs.len()), Some(1));
    assert_eq!(with_heredoc.span.end, text.len());
}

#[test]
fn unknown_instruction_with_suggestion() {
    let text = "FROM x\nRUNN echo hi\nFOOBARBAZ x";
    let df = parse(text);
    assert_eq!(nth(&df, 1).keyword, Keyword::Unknown("RUNN".into()));
    assert_eq!(messages(&df.errors), vec!["unknown instruction `RUNN`", "unknown instruction `FOOBARBAZ`"]);
    let first = df.errors.first();
    assert_eq!(first.map(|e| e.span.clone()), Some(7..11));
    assert_eq!(first.and_then(|e| e.help.as_deref()), Some("did you mean `RUN`?"));
    assert_eq!(df.errors.get(1).and_then(|e| e.help.as_deref()), None);
}

#[test]
fn arg_before_from_and_stages() {
    let text = "ARG VERSION=1.22\nARG BASE\nFROM golang:${VERSION} AS Build\nRUN go build\nFROM build AS test\nFROM alpine\nCOPY --from=build /app /app\nCOPY --from=0 /x /x\nCOPY --from=nginx:1 /etc /etc";
    let df = parse(text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    let Some(decls) = nth(&df, 0).as_arg() else { panic!() };
    let Some(decl) = decls.first() else { panic!() };
    assert_eq!((decl.name.text.as_str(), decl.name.span.clone()), ("VERSION", 4..11));
    assert_eq!(decl.default.as_ref().map(|d| (d.text.as_str(), d.span.clone())), Some(("1.22", 12..16)));
    assert_eq!(nth(&df, 1).as_arg().and_then(|d| d.first().map(|d| d.default.clone())), Some(None));

    let stages = stages(&df);
    assert_eq!(stages.global_args, vec![0, 1]);
    assert_eq!(stages.stages.len(), 3);
    let names: Vec<Option<&str>> = stages.stages.iter().map(|s| s.name.as_deref()).collect();
    assert_eq!(names, vec![Some("build"), Some("test"), None]);
    let bases: Vec<&Base> = stages.stages.iter().map(|s| &s.base).collect();
    assert_eq!(bases, vec![&Base::Image("golang:${VERSION}".into()), &Base::Stage(0), &Base::Image("alpine".into())]);
    let ranges: Vec<Range<usize>> = stages.stages.iter().map(|s| s.instructions.clone()).collect();
    assert_eq!(ranges, vec![2..4, 4..5, 5..9]);
    let Some(first) = stages.stages.first() else { panic!() };
    assert_eq!(at(text, &first.span), "FROM golang:${VERSION} AS Build\nRUN go build");
    assert_eq!(first.name_span, Some(52..57));
    assert_eq!(stages.resolve_from(2, "build"), Base::Stage(0));
    assert_eq!(stages.resolve_from(2, "0"), Base::Stage(0));
    assert_eq!(stages.resolve_from(2, "nginx:1"), Base::Image("nginx:1".into()));
    assert_eq!(stages.resolve_from(0, "build"), Base::Image("build".into()));
    assert_eq!(stages.target(None).map(|s| s.index), Some(2));
    assert_eq!(stages.target(Some("TEST")).map(|s| s.index), Some(1));

    let expand = |name: &str| (name == "VERSION").then(|| "1.22".to_string());
    let image = first_image(&df);
    assert_eq!(substitute(&image, df.escape, &expand).as_deref(), Ok("golang:1.22"));
}

fn first_image(df: &Dockerfile) -> String {
    df.instructions.iter().find_map(Instruction::as_from).map(|f| f.image.text.clone()).unwrap_or_default()
}

#[test]
fn from_errors() {
    let df = parse("RUN x\nFROM a b\nFROM a AS 1bad\nFROM a FOR b");
    assert_eq!(
        messages(&df.errors),
        vec![
            "FROM requires either one or three arguments",
            "invalid stage name `1bad`",
            "expected `AS` before the stage name",
            "RUN before the first FROM",
        ]
    );
    assert_eq!(df.errors.get(3).map(|e| e.span.clone()), Some(0..3));
}

#[test]
fn expose_user_workdir_stopsignal_volume_shell_maintainer() {
    let text = "FROM x\nEXPOSE 80 53/udp 8000-8010/TCP $PORT\nUSER app:staff\nWORKDIR /srv/my app\nSTOPSIGNAL SIGTERM\nVOLUME [\"/data\", \"/logs\"]\nVOLUME /a /b\nSHELL [\"/bin/bash\", \"-c\"]\nMAINTAINER me <me@x.org>";
    let df = parse(text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    let Some(ports) = nth(&df, 1).as_expose() else { panic!() };
    assert_eq!(word_texts(ports), vec!["80", "53/udp", "8000-8010/TCP", "$PORT"]);
    assert_eq!(word_spans(ports), vec![14..16, 17..23, 24..37, 38..43]);
    assert_eq!(parse_port_spec("80"), Ok(crate::ports::Spec { start: 80, end: 80, protocol: None }));
    assert_eq!(
        parse_port_spec("8000-8010/TCP"),
        Ok(crate::ports::Spec { start: 8000, end: 8010, protocol: Some("TCP") })
    );
    assert_eq!(parse_port_spec("x"), Err("invalid port `x` in `x`".to_string()));
    assert!(parse_port_spec("70000").is_err());
    assert!(parse_port_spec("90-80").is_err());

    let Some(user) = nth(&df, 2).as_user() else { panic!() };
    assert_eq!((user.user.text.as_str(), user.user.span.clone()), ("app", 49..52));
    assert_eq!(user.group.map(|g| (g.text, g.span)), Some(("staff".to_string(), 53..58)));
    assert_eq!(nth(&df, 3).as_workdir().map(|w| w.text.as_str()), Some("/srv/my app"));
    assert_eq!(nth(&df, 4).as_stopsignal().map(|w| w.span.clone()), Some(90..97));
    assert_eq!(nth(&df, 5).as_volume().map(word_texts), Some(vec!["/data", "/logs"]));
    assert_eq!(nth(&df, 6).as_volume().map(word_texts), Some(vec!["/a", "/b"]));
    assert_eq!(nth(&df, 7).as_shell().map(word_texts), Some(vec!["/bin/bash", "-c"]));
    assert_eq!(nth(&df, 8).as_maintainer().map(|w| w.text.as_str()), Some("me <me@x.org>"));
    assert_eq!(messages(&df.warnings), vec!["MAINTAINER is deprecated"]);
}

#[test]
fn shell_requires_json_and_missing_arguments() {
    let df = parse("FROM x\nSHELL /bin/sh -c\nWORKDIR\nUSER   \nCOPY onlyone\nCMD");
    assert_eq!(
        messages(&df.errors),
        vec![
            "SHELL requires the arguments in JSON form",
            "WORKDIR requires at least one argument",
            "USER requires at least one argument",
            "COPY requires at least two arguments",
        ]
    );
    assert_eq!(df.errors.get(1).map(|e| e.span.clone()), Some(24..31));
}

#[test]
fn healthcheck_forms() {
    let text = "FROM x\nHEALTHCHECK --interval=30s --timeout=1m30s --start-period=500ms --start-interval=2s --retries=5 \\\n  CMD curl -f http://localhost/ || exit 1\nHEALTHCHECK CMD [\"/bin/check\"]\nHEALTHCHECK NONE";
    let df = parse(text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    let Some(check) = nth(&df, 1).as_healthcheck() else { panic!() };
    assert_eq!(check.interval, Some(Duration::from_secs(30)));
    assert_eq!(check.timeout, Some(Duration::from_secs(90)));
    assert_eq!(check.start_period, Some(Duration::from_millis(500)));
    assert_eq!(check.start_interval, Some(Duration::from_secs(2)));
    assert_eq!(check.retries, Some(5));
    let Some(Command::Shell(shell)) = check.command else { panic!() };
    assert_eq!(at(text, &shell.span), "curl -f http://localhost/ || exit 1");
    let Some(exec) = nth(&df, 2).as_healthcheck() else { panic!() };
    assert!(matches!(exec.command, Some(Command::Exec(argv)) if word_texts(argv) == vec!["/bin/check"]));
    let Some(none) = nth(&df, 3).as_healthcheck() else { panic!() };
    assert_eq!(none.command, None);
}

#[test]
fn healthcheck_errors() {
    let df =
        parse("FROM x\nHEALTHCHECK --interval=5 CMD true\nHEALTHCHECK PING x\nHEALTHCHECK NONE extra\nHEALTHCHECK CMD");
    assert_eq!(
        messages(&df.errors),
        vec![
            "invalid duration `5`: unit must be one of ns, us, ms, s, m, h",
            "unknown type `PING` in HEALTHCHECK",
            "HEALTHCHECK NONE takes no options or arguments",
            "missing command after HEALTHCHECK CMD",
        ]
    );
    assert_eq!(df.errors.first().map(|e| e.span.clone()), Some(30..31));
}

#[test]
fn durations() {
    assert_eq!(parse_duration("1h2m3s"), Ok(Duration::from_secs(3723)));
    assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
    assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    assert!(parse_duration("").is_err());
    assert!(parse_duration("s").is_err());
    assert!(parse_duration("10 s").is_err());
}

#[test]
fn comments_before_instructions() {
    let text = "FROM x\n# hadolint ignore=DL3008\n# kompile-ignore=K001\nRUN apt-get install curl\n   # indented\nRUN b # not a comment";
    let df = parse(text);
    let run = nth(&df, 1);
    let comments: Vec<&str> = run.comments_before.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(comments, vec!["hadolint ignore=DL3008", "kompile-ignore=K001"]);
    assert_eq!(run.comments_before.first().map(|c| c.span.clone()), Some(7..31));
    let last = nth(&df, 2);
    assert_eq!(last.comments_before.first().map(|c| c.span.clone()), Some(82..92));
    assert_eq!(last.args.text().map(|w| w.text.as_str()), Some("b # not a comment"));
}

#[test]
fn leading_whitespace_and_trailing_continuation_at_eof() {
    let text = "  FROM x\n\tRUN a \\";
    let df = parse(text);
    assert_eq!(nth(&df, 0).keyword_span, 2..6);
    let run = nth(&df, 1);
    assert_eq!(run.keyword_span, 10..13);
    assert_eq!(run.span, 10..15);
}

#[test]
fn arbitrary_input_never_panics() {
    let samples = [
        "\\",
        "`",
        "\u{feff}",
        "FROM",
        "RUN <<",
        "RUN <<-",
        "RUN [",
        "CMD [\"\\u12",
        "ONBUILD",
        "ONBUILD ONBUILD",
        "HEALTHCHECK",
        "FROM x\nENV =",
        "COPY --",
        "COPY --=x a b",
        "RUN \u{e9}\\\n\u{e9}",
        "\r\r\n\r",
        "# escape=",
        "FROM x\nARG =",
        "HEALTHCHECK --retries CMD x",
        "EXPOSE \\\n",
    ];
    for sample in samples {
        let _ = parse(sample);
    }
    let mut text = String::new();
    for byte in 0u8..=127 {
        text.push(char::from(byte));
        let _ = parse(&text);
    }
}

#[test]
fn large_file_parses() {
    let text = sample_200_lines();
    let df = parse(&text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    assert!(df.instructions.len() > 100);
}

/// A realistic 200-line multi-stage Dockerfile, shared with the timing example.
pub(crate) fn sample_200_lines() -> String {
    let mut text = String::from("# syntax=docker/dockerfile:1\nARG GO_VERSION=1.22\n");
    for stage in 0..10 {
        text.push_str(&format!("FROM --platform=$BUILDPLATFORM golang:${{GO_VERSION}} AS stage{stage}\n"));
        text.push_str("WORKDIR /src\nENV CGO_ENABLED=0 GOOS=linux\n");
        text.push_str("RUN --mount=type=cache,target=/root/.cache \\\n    go mod download && \\\n    go build -o /out/app ./cmd\n");
        text.push_str("COPY --from=build --chown=1000:1000 /out/app /usr/local/bin/app\n");
        text.push_str("RUN <<EOF\nset -e\napt-get update\napt-get install -y curl\nEOF\n");
        text.push_str("EXPOSE 8080/tcp 9090\nUSER 1000:1000\n");
        text.push_str("HEALTHCHECK --interval=30s CMD curl -f http://localhost:8080/ || exit 1\n");
        text.push_str("# a comment\nLABEL org.opencontainers.image.title=\"app\"\n");
        text.push_str("ENTRYPOINT [\"/usr/local/bin/app\"]\nCMD [\"--serve\"]\n\n");
    }
    text
}

/// Every span a parse produces, so properties can be checked over all of them.
fn all_spans(df: &Dockerfile) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = Vec::new();
    spans.extend(df.directives.iter().flat_map(|d| [d.span.clone(), d.value_span.clone()]));
    spans.extend(df.errors.iter().chain(&df.warnings).map(|e| e.span.clone()));
    spans.extend(df.trailing_comments.iter().map(|c| c.span.clone()));
    let triggers = df.instructions.iter().filter_map(|i| i.onbuild.as_deref());
    for ins in df.instructions.iter().chain(triggers) {
        spans.push(ins.span.clone());
        spans.push(ins.keyword_span.clone());
        spans.extend(ins.comments_before.iter().chain(&ins.comments_inside).map(|c| c.span.clone()));
        spans.extend(ins.flags.iter().flat_map(|f| std::iter::once(f.span.clone()).chain(f.value_span.clone())));
        spans.extend(ins.heredocs.iter().flat_map(|h| [h.span.clone(), h.body_span.clone()]));
        let nested = match &ins.args {
            Args::Healthcheck { mode, command } => {
                spans.push(mode.span.clone());
                command.as_deref()
            }
            other => Some(other),
        };
        if let Some(args) = nested {
            spans.extend(args.words().iter().chain(args.text()).map(|w| w.span.clone()));
        }
    }
    spans
}

/// Deterministic pseudo-random Dockerfiles from syntax-heavy tokens: no panic, and every
/// span is a valid, ordered range on char boundaries of the input.
#[test]
fn random_inputs_give_valid_spans() {
    let tokens = [
        "FROM",
        "RUN",
        "COPY",
        "ENV",
        "ARG",
        "ONBUILD",
        "HEALTHCHECK",
        "CMD",
        "NONE",
        "SHELL",
        "USER",
        "<<EOF",
        "EOF",
        "<<-'X'",
        "X",
        "\\",
        "`",
        "\n",
        "\r\n",
        " ",
        "\t",
        "\"",
        "'",
        "[",
        "]",
        ",",
        "--",
        "--from=",
        "=",
        "${",
        "}",
        "$a",
        "#",
        "# escape=`\n",
        "\u{feff}",
        "é",
        "a",
        "b=c",
        "AS",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let len = next() % 40;
        let text: String =
            (0..len).filter_map(|_| tokens.get((next() % tokens.len() as u64) as usize).copied()).collect();
        let df = parse(&text);
        for span in all_spans(&df) {
            assert!(span.start <= span.end && text.get(span.clone()).is_some(), "{span:?} in {text:?}");
        }
        for ins in &df.instructions {
            assert!(ins.span.start <= ins.keyword_span.start && ins.keyword_span.end <= ins.span.end, "{text:?}");
        }
    }
}
