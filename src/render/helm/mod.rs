//! `kompile build --helm DIR`: the emitted objects as a Helm chart. The templates are the
//! objects `build` prints, with the values a team changes per install (images, replicas,
//! resources, environment, exposure, autoscaling, storage, Secrets) read from
//! `values.yaml`; with its defaults the chart renders exactly what `build` prints.

mod pages;
mod release;
mod schema;
mod template;
mod values;

pub use template::{Parameter, template};

use serde_json::{Value, json};

use crate::emit::{Object, PART_OF};

/// What the command line says about the chart.
#[derive(Debug, Clone)]
pub struct ChartInfo {
    /// `version` in Chart.yaml.
    pub version: String,
    /// `appVersion` in Chart.yaml, when given.
    pub app_version: Option<String>,
    /// `--helm-release-prefix`: names start with the release name.
    pub release_names: bool,
}

/// The helpers every template may use: the image from its parts, any text as a JSON string
/// YAML reads back exactly (Go's JSON leaves DEL, C1 controls and BOM raw), a Secret's value (which
/// may be empty, but must be given), and the config checksum
/// that keeps `build`'s value while the environment keeps its defaults (compared as the
/// strings the pods see, so `PORT: 8080` given as a number changes nothing).
const HELPERS: &str = r#"{{/* Written by kompile. */}}
{{- define "kompile.image" -}}
{{ .repository }}{{ if .tag }}:{{ .tag }}{{ end }}{{ if .digest }}@{{ .digest }}{{ end }}
{{- end }}
{{- define "kompile.text" -}}
{{ toString . | toJson | replace "\u007f" "\\u007f" | replace "\u0080" "\\u0080" | replace "\u0081" "\\u0081" | replace "\u0082" "\\u0082" | replace "\u0083" "\\u0083" | replace "\u0084" "\\u0084" | replace "\u0085" "\\u0085" | replace "\u0086" "\\u0086" | replace "\u0087" "\\u0087" | replace "\u0088" "\\u0088" | replace "\u0089" "\\u0089" | replace "\u008a" "\\u008a" | replace "\u008b" "\\u008b" | replace "\u008c" "\\u008c" | replace "\u008d" "\\u008d" | replace "\u008e" "\\u008e" | replace "\u008f" "\\u008f" | replace "\u0090" "\\u0090" | replace "\u0091" "\\u0091" | replace "\u0092" "\\u0092" | replace "\u0093" "\\u0093" | replace "\u0094" "\\u0094" | replace "\u0095" "\\u0095" | replace "\u0096" "\\u0096" | replace "\u0097" "\\u0097" | replace "\u0098" "\\u0098" | replace "\u0099" "\\u0099" | replace "\u009a" "\\u009a" | replace "\u009b" "\\u009b" | replace "\u009c" "\\u009c" | replace "\u009d" "\\u009d" | replace "\u009e" "\\u009e" | replace "\u009f" "\\u009f" | replace "\ufeff" "\\ufeff" }}
{{- end }}
{{- define "kompile.secret" -}}
{{ if kindIs "invalid" (index . 0) }}{{ fail (index . 1) }}{{ end }}{{ index . 0 | default "" | toString | b64enc }}
{{- end }}
{{- define "kompile.name" -}}
{{- $name := printf "%s-%s" (index . 0) (index . 1) }}
{{- if le (len $name) (index . 2) }}{{ $name }}{{ else }}{{ printf "%s-%s" (trunc (int (sub (index . 2) 9)) $name | trimSuffix "-" | trimSuffix "." ) (sha256sum $name | trunc 8) }}{{ end }}
{{- end }}
{{- define "kompile.checksum" -}}
{{- $now := dict }}
{{- range $service, $env := index . 1 }}
{{- $strings := dict }}
{{- range $name, $value := $env }}{{ $_ := set $strings $name (toString $value) }}{{ end }}
{{- $_ := set $now $service $strings }}
{{- end }}
{{- if deepEqual $now (fromJson (index . 2)) }}{{ index . 0 }}{{ else }}{{ $now | toJson | sha256sum | trunc 16 }}{{ end }}
{{- end }}
"#;

/// Files Helm leaves out of a packaged chart.
const HELMIGNORE: &str =
    "# Written by kompile.\n.DS_Store\n.git/\n.gitignore\n*.swp\n*.bak\n*.tmp\n*.orig\n*~\n.kompile\n";

/// The chart's files, paths relative to the chart directory, in a fixed order.
pub fn chart(objects: &[Object], info: &ChartInfo) -> Vec<(String, String)> {
    let analysis = values::analyse(objects, info.release_names);
    // The project's name, as emit labels every object; the chart is named after it.
    let project = objects.iter().find_map(|o| o.metadata().labels.as_ref()?.get(PART_OF).cloned());
    let project = project.unwrap_or_else(|| "app".to_string());
    let name = chart_name(&project);
    let values = match &analysis.values {
        Value::Null => json!({}),
        other => other.clone(),
    };
    let mut files = vec![
        ("Chart.yaml".to_string(), plain_yaml(&chart_yaml(&name, info))),
        ("values.yaml".to_string(), plain_yaml(&values)),
        ("values.schema.json".to_string(), schema::schema(&analysis.settings)),
        (".helmignore".to_string(), HELMIGNORE.to_string()),
        ("templates/_helpers.tpl".to_string(), HELPERS.to_string()),
    ];
    let width = objects.len().to_string().len().max(2);
    for (i, (object, templated)) in objects.iter().zip(&analysis.templates).enumerate() {
        let name = format!("templates/{}", super::file_name(i + 1, width, object));
        files.push((name, template(&templated.object, &templated.parameters, templated.guard.as_deref())));
    }
    files.push(("templates/NOTES.txt".to_string(), pages::notes(objects, &analysis.settings, &project, info)));
    files.push(("README.md".to_string(), pages::readme(&analysis.settings, &name, info)));
    files
}

/// A YAML file without the document marker.
fn plain_yaml(value: &Value) -> String {
    super::value_yaml(value)
}

fn chart_yaml(name: &str, info: &ChartInfo) -> Value {
    let mut chart = json!({
        "apiVersion": "v2",
        "name": name,
        "description": format!("{name}, from its compose files by kompile"),
        "type": "application",
        "version": info.version,
    });
    if let Some(app_version) = &info.app_version {
        chart["appVersion"] = json!(app_version);
    }
    chart
}

/// A project name as a chart name: lowercase letters, digits and `-`.
fn chart_name(project: &str) -> String {
    let name: String =
        project.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let name = name.trim_matches('-').to_string();
    if name.is_empty() { "app".to_string() } else { name }
}
