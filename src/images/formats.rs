//! `kompile images` output: a table for people, JSON for scripts, and a `docker buildx
//! bake` file that builds and pushes exactly the images the manifests reference.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::BuiltImage;

/// One block per service; paths relative to `base` where they are inside it.
pub fn text(images: &[BuiltImage], base: &Path) -> String {
    let mut out = String::new();
    for built in images {
        out.push_str(&built.service);
        out.push('\n');
        let mut line = |key: &str, value: &str| out.push_str(&format!("  {key:<11}{value}\n"));
        line("context", &shown(Path::new(&built.context), base));
        match (&built.dockerfile, &built.dockerfile_inline) {
            (Some(path), _) => line("dockerfile", &shown(path, base)),
            (None, _) => line("dockerfile", "(inline)"),
        }
        if let Some(target) = &built.target {
            line("target", target);
        }
        for (name, value) in &built.args {
            line("arg", &format!("{name}={value}"));
        }
        line("image", built.image.as_deref().unwrap_or("(none)"));
    }
    out
}

fn shown(path: &Path, base: &Path) -> String {
    match path.strip_prefix(base) {
        Ok(inside) if inside.as_os_str().is_empty() => ".".to_string(),
        Ok(inside) => format!("./{}", inside.display()),
        Err(_) => path.display().to_string(),
    }
}

/// A JSON array, one object per service, with absolute paths.
pub fn json(images: &[BuiltImage]) -> String {
    let items: Vec<Value> = images
        .iter()
        .map(|b| {
            json!({
                "service": b.service,
                "context": b.context,
                "dockerfile": b.dockerfile.as_ref().map(|p| p.display().to_string()),
                "dockerfile_inline": b.dockerfile_inline,
                "target": b.target,
                "args": b.args,
                "image": b.image,
            })
        })
        .collect();
    pretty(&Value::Array(items))
}

/// A bake file (JSON, which `docker buildx bake -f` reads like HCL): one target per
/// service, all in the `default` group, each tagged with the reference the manifests use.
/// Paths are absolute so the file works from any directory.
pub fn bake(images: &[BuiltImage]) -> String {
    let mut targets = Map::new();
    for built in images {
        let Some(image) = &built.image else { continue };
        targets.insert(target_name(&built.service), bake_target(built, image));
    }
    let names: Vec<&String> = targets.keys().collect();
    let file = json!({ "group": { "default": { "targets": names } }, "target": targets });
    pretty(&file)
}

fn bake_target(built: &BuiltImage, image: &str) -> Value {
    let mut target = Map::new();
    target.insert("context".to_string(), json!(built.context));
    if let Some(path) = &built.dockerfile {
        target.insert("dockerfile".to_string(), json!(dockerfile_for_bake(path, &built.context)));
    }
    if let Some(inline) = &built.dockerfile_inline {
        target.insert("dockerfile-inline".to_string(), json!(inline));
    }
    if let Some(name) = &built.target {
        target.insert("target".to_string(), json!(name));
    }
    if !built.args.is_empty() {
        target.insert("args".to_string(), json!(built.args));
    }
    if !built.secrets.is_empty() {
        target.insert("secret".to_string(), json!(built.secrets));
    }
    target.insert("tags".to_string(), json!([image]));
    Value::Object(target)
}

/// Bake resolves `dockerfile` against the context, so one inside it is given relative.
fn dockerfile_for_bake(path: &Path, context: &str) -> String {
    match path.strip_prefix(context) {
        Ok(inside) => inside.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

/// Bake target names allow letters, digits, `-` and `_`; compose service names may also
/// have `.`.
fn target_name(service: &str) -> String {
    service.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;

    fn sample() -> Vec<BuiltImage> {
        vec![
            BuiltImage {
                service: "api".into(),
                context: "/src/shop/api".into(),
                dockerfile: Some(PathBuf::from("/src/shop/api/Dockerfile")),
                dockerfile_inline: None,
                target: Some("prod".into()),
                args: BTreeMap::from([("PYTHON".into(), "3.13".into())]),
                secrets: vec!["id=npm,src=/src/shop/npmrc".into()],
                image: Some("ghcr.io/acme/shop-api:sha-0123456789ab".into()),
            },
            BuiltImage {
                service: "web.v2".into(),
                context: "/src/shop".into(),
                dockerfile: Some(PathBuf::from("/src/docker/web.Dockerfile")),
                dockerfile_inline: None,
                target: None,
                args: BTreeMap::new(),
                secrets: Vec::new(),
                image: Some("ghcr.io/acme/web:1.0".into()),
            },
        ]
    }

    #[test]
    fn text_lists_each_build() {
        insta::assert_snapshot!(text(&sample(), Path::new("/src/shop")), @r"
        api
          context    ./api
          dockerfile ./api/Dockerfile
          target     prod
          arg        PYTHON=3.13
          image      ghcr.io/acme/shop-api:sha-0123456789ab
        web.v2
          context    .
          dockerfile /src/docker/web.Dockerfile
          image      ghcr.io/acme/web:1.0
        ");
    }

    #[test]
    fn bake_targets_build_and_tag_what_the_manifests_use() {
        let file: Value = serde_json::from_str(&bake(&sample())).unwrap();
        assert_eq!(file["group"]["default"]["targets"], json!(["api", "web_v2"]));
        let api = &file["target"]["api"];
        assert_eq!(api["dockerfile"], "Dockerfile");
        assert_eq!(api["target"], "prod");
        assert_eq!(api["args"]["PYTHON"], "3.13");
        assert_eq!(api["tags"], json!(["ghcr.io/acme/shop-api:sha-0123456789ab"]));
        assert_eq!(api["secret"], json!(["id=npm,src=/src/shop/npmrc"]));
        assert_eq!(file["target"]["web_v2"].get("secret"), None);
        assert_eq!(file["target"]["web_v2"]["dockerfile"], "/src/docker/web.Dockerfile");
        let listed: Value = serde_json::from_str(&json(&sample())).unwrap();
        assert_eq!(listed[0]["service"], "api");
    }
}
