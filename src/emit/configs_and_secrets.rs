//! ConfigMaps and Secrets: top-level configs and secrets, and each service's merged env files.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};

use super::labels::{app_labels, service_labels};
use super::{metadata, non_empty};
use crate::model::{self, App, ConfigData, EnvFromConfigMap, SecretEnv};

/// A top-level config (or bind-mounted project files): text under `data`, the rest under
/// `binaryData`, since ConfigMap `data` must be UTF-8.
pub(super) fn config_map(app: &App, config: &model::Config) -> ConfigMap {
    let mut data = BTreeMap::new();
    let mut binary_data = BTreeMap::new();
    for (key, value) in &config.data {
        match value {
            ConfigData::Text(text) => {
                data.insert(key.clone(), text.clone());
            }
            ConfigData::Binary(bytes) => {
                binary_data.insert(key.clone(), ByteString(bytes.clone()));
            }
        }
    }
    ConfigMap {
        metadata: metadata(app, &config.k8s_name, app_labels(app), BTreeMap::new()),
        data: non_empty(data),
        binary_data: non_empty(binary_data),
        ..ConfigMap::default()
    }
}

/// A top-level secret as one Opaque key.
pub(super) fn secret(app: &App, secret: &model::Secret) -> Secret {
    Secret {
        metadata: metadata(app, &secret.k8s_name, app_labels(app), BTreeMap::new()),
        type_: Some("Opaque".to_string()),
        data: Some(BTreeMap::from([(secret.key.clone(), ByteString(secret.data.clone()))])),
        ..Secret::default()
    }
}

/// A service's secret environment values, which its container takes by name.
pub(super) fn env_secret(app: &App, svc: &model::Service, env: &SecretEnv) -> Secret {
    let data = env.data.iter().map(|(k, v)| (k.clone(), ByteString(v.clone().into_bytes()))).collect();
    Secret {
        metadata: metadata(app, &env.k8s_name, service_labels(app, svc), BTreeMap::new()),
        type_: Some("Opaque".to_string()),
        data: Some(data),
        ..Secret::default()
    }
}

/// A service's env files, referenced from its container through `envFrom`.
pub(super) fn env_config_map(app: &App, svc: &model::Service, env: &EnvFromConfigMap) -> ConfigMap {
    ConfigMap {
        metadata: metadata(app, &env.k8s_name, service_labels(app, svc), BTreeMap::new()),
        // An empty env file still yields the ConfigMap the container refers to; `{}` is fine.
        data: Some(env.data.clone()),
        ..ConfigMap::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::fixtures::{app, service};

    #[test]
    fn text_and_binary_config_data() {
        let config = model::Config {
            name: "assets".into(),
            k8s_name: "assets".into(),
            data: BTreeMap::from([
                ("a.txt".into(), ConfigData::Text("hi".into())),
                ("b.bin".into(), ConfigData::Binary(vec![0, 255])),
            ]),
        };
        let cm = config_map(&app(), &config);
        assert_eq!(cm.data, Some(BTreeMap::from([("a.txt".into(), "hi".into())])));
        assert_eq!(cm.binary_data, Some(BTreeMap::from([("b.bin".into(), ByteString(vec![0, 255]))])));
    }

    #[test]
    fn secret_is_opaque_with_one_key() {
        let s = model::Secret { name: "db".into(), k8s_name: "db".into(), key: "db".into(), data: b"pw".to_vec() };
        let out = secret(&app(), &s);
        assert_eq!(out.type_.as_deref(), Some("Opaque"));
        assert_eq!(out.data, Some(BTreeMap::from([("db".into(), ByteString(b"pw".to_vec()))])));
    }

    #[test]
    fn env_config_map_carries_service_labels() {
        let env = EnvFromConfigMap { k8s_name: "web-env".into(), data: BTreeMap::new() };
        let cm = env_config_map(&app(), &service("web"), &env);
        let labels = cm.metadata.labels.unwrap_or_default();
        assert_eq!(labels["app.kubernetes.io/name"], "web");
        assert_eq!(labels["app.kubernetes.io/instance"], "shop");
    }
}
