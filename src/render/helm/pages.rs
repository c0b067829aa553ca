//! The chart's pages for people: `templates/NOTES.txt`, which Helm prints after an install
//! (how to reach what is exposed), and `README.md`, every value with its default and what
//! it sets.

use std::fmt::Write;

use super::ChartInfo;
use super::values::{Setting, path_text, set_file_flag};
use crate::emit::Object;

/// How objects are named, without `--helm-release-prefix`.
const FIXED_NAMES: &str = "Object names, labels and selectors are the compose names, as `kompile build` writes them, so clients keep reaching each service by its compose name, as under Compose; install one release per namespace.";

/// How objects are named with `--helm-release-prefix`.
const RENAMED: &str = "Every object's name starts with the release name (`<release>-db`, at most 63 characters) and the `app.kubernetes.io/instance` label is the release name, so releases can share a namespace. Services are renamed too: a client that reached another service as `db` must be given `<release>-db` (set its `services.<name>.env` value).";

/// `NOTES.txt`: a template, so only `{{ .Release.* }}` is Helm's; the rest is text.
pub fn notes(objects: &[Object], settings: &[Setting], project: &str, info: &ChartInfo) -> String {
    let mut out = String::from(
        "{{ .Release.Name }} ({{ .Chart.Name }} {{ .Chart.Version }}) is installed in namespace {{ .Release.Namespace }}.\n",
    );
    let exposure = crate::render::exposure_table(objects).replace("{{", "{{ \"{{\" }}");
    if !exposure.is_empty() {
        out.push('\n');
        out.push_str(&exposure);
        out.push_str("  (addresses: kubectl get services,ingresses -n {{ .Release.Namespace }})\n");
    }
    let _ = write!(
        out,
        "\nWatch it start:\n  kubectl get pods -n {{{{ .Release.Namespace }}}} -l app.kubernetes.io/part-of={}{} -w\n",
        project,
        if info.release_names { ",app.kubernetes.io/instance={{ .Release.Name }}" } else { "" }
    );
    if info.release_names {
        out.push_str("\nServices are named {{ .Release.Name }}-<service>: clients that reached a service by its compose name must be given the new name.\n");
    }
    let secrets = secret_lines(settings);
    if !secrets.is_empty() {
        out.push_str("\nSecrets come from the install command, never from the chart:\n");
        out.push_str(&secrets);
    }
    out
}

/// One line per Secret key: how to give its value at install.
fn secret_lines(settings: &[Setting]) -> String {
    let mut out = String::new();
    for setting in settings.iter().filter(|s| s.path.first().is_some_and(|p| p == "secrets")) {
        if setting.path.get(2).is_some_and(|p| p == "data") {
            let _ = writeln!(out, "  {}", set_file_flag(&setting.path));
        }
    }
    out
}

/// `README.md`: how to install, and every value.
pub fn readme(settings: &[Setting], name: &str, info: &ChartInfo) -> String {
    let mut out = format!(
        "# {name}\n\nA Helm chart written by kompile from the project's compose files. With its default values it renders exactly what `kompile build` prints; regenerate it with `kompile build --helm` rather than editing the templates.\n\n## Install\n\n```sh\nhelm install {name} . --namespace {name} --create-namespace"
    );
    for setting in settings.iter().filter(|s| s.path.first().is_some_and(|p| p == "secrets")) {
        if setting.path.get(2).is_some_and(|p| p == "data") {
            let _ = write!(out, " \\\n  {}", set_file_flag(&setting.path));
        }
    }
    out.push_str("\n```\n\n");
    if settings.iter().any(|s| s.path.first().is_some_and(|p| p == "secrets")) {
        out.push_str("No secret value is in this chart. Give each one at install with `--set-file`: the file's bytes become the Secret's value, a trailing newline included (write a value that came from the environment with `printf %s`). Or name a Secret you already have with `--set secrets.<name>.existingSecret=<secret>`: it must hold the same keys.\n\n");
    }
    out.push_str(if info.release_names { RENAMED } else { FIXED_NAMES });
    out.push_str("\n\n## Values\n\n| Value | Default | Sets |\n|---|---|---|\n");
    for setting in settings {
        let default = serde_json::to_string(&setting.default).unwrap_or_default();
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} |",
            cell(&path_text(&setting.path)),
            cell(&default),
            cell(&setting.sets.join("; "))
        );
    }
    out.push_str("\nThe chart's `values.schema.json` refuses values of the wrong type and keys the chart does not read. A claim's size or storage class cannot change on a StatefulSet that exists (Kubernetes refuses changes to `volumeClaimTemplates`), and a Job's pod template cannot change once it exists: delete a finished Job before an upgrade that changes its image or environment.\n");
    out
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
