//! Lowering: the loaded, checked, typed compose project → the [`App`] model. Every decision
//! that needs a warning (names changed, keys without a translation, risky rollouts) is made
//! and reported here, so `emit` can be pure.

mod aliases;
mod availability;
mod built;
mod copy_up;
mod dns;
mod expose;
mod kompose;
mod names;
mod network;
mod runtime;
mod service;
mod sidecars;
mod storage;
mod traefik;
mod unsupported;
mod waits;
mod workload;

use std::collections::BTreeMap;

use crate::compose;
use crate::diag::Diagnostics;
use crate::model::App;
use crate::names::label_value;

/// What the user chose on the command line that shapes the model.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub namespace: Option<String>,
    /// The image of each service that builds one and has no `image`, by service name: what
    /// `crate::images::names` gave it. A built service missing here (its image could not be
    /// named, which `images` reported) gets an empty image.
    pub built_images: BTreeMap<String, String>,
}

/// Takes the project: its environments, the bulk of a project's strings, move into the model
/// instead of being copied.
pub fn lower(mut typed: compose::Project, settings: &Settings, diags: &mut Diagnostics) -> App {
    // Before the environments move out: they are where services address each other.
    let mut learned = compose::addresses::learned_ports(&typed);
    let secret_values = compose::SecretValues::of(&typed);
    dns::hidden_names(&typed, diags);
    dns::docker_dns(&typed, diags);
    let environments: Vec<_> = typed.services.iter_mut().map(|s| std::mem::take(&mut s.environment)).collect();
    let typed = &typed;
    unsupported::top_level(typed, diags);
    let waiters = crate::compose::workload::completion_waiters(typed);
    let mut store = storage::Storage::new(typed, diags);
    let networks = network::Networks::new(typed, diags);
    project_label(&typed.name, diags);
    // Before the services are lowered: a sidecar's exposure and scaling are its pod's.
    let pods = sidecars::Pods::read(typed, diags);
    let mut services: Vec<_> = typed.services.iter().zip(environments).collect();
    // Sorted by name so output order never depends on the order of the file.
    services.sort_by(|a, b| a.0.name.value.cmp(&b.0.name.value));
    let mut named = Vec::new();
    let mut namer = names::Namer::for_services(diags);
    for (service, environment) in services {
        if let Some(k8s_name) = namer.name(&service.name, service.name.span) {
            named.push((service, environment, k8s_name));
        }
    }
    // By service, once: a project may build a thousand Dockerfiles.
    let dockerfiles: BTreeMap<&str, &compose::BuildFile> =
        typed.dockerfiles.iter().flat_map(|d| d.services.iter().map(move |s| (s.as_str(), d))).collect();
    // Kompose's labels, read once (each gets its note) for every stage that needs them.
    let labels: BTreeMap<&str, compose::ServiceSettings> = named
        .iter()
        .map(|(s, _, _)| (s.name.as_str(), kompose::settings(s, pods.pod_of(s.name.as_str()).is_some(), diags)))
        .collect();
    let no_labels = compose::ServiceSettings::default();
    let mut services = Vec::new();
    for (service, environment, k8s_name) in named {
        let built = built::Built::of(dockerfiles.get(service.name.as_str()).copied(), service);
        let built_image = settings.built_images.get(&service.name.value).cloned();
        let learned = learned.remove(service.name.as_str()).unwrap_or_default();
        let mut lowering = service::Lowering {
            service,
            environment,
            k8s_name,
            store: &mut store,
            networks: &networks,
            diags,
            built,
            built_image,
            learned,
            project: &typed.settings,
            secret_values: &secret_values,
            waiter: waiters.get(service.name.as_str()).copied(),
            pod: pods.pod_of(service.name.as_str()),
            labels: labels.get(service.name.as_str()).unwrap_or(&no_labels),
        };
        services.push(lowering.lower());
    }
    sidecars::join(typed, &pods, &labels, &mut services, &networks, &mut store, diags);
    workload::claims(typed, &mut services, &mut store, &waiters, diags);
    availability::assign(typed, &labels, &mut services, diags);
    aliases::assign(typed, &mut services, diags);
    sidecars::own_names(&mut services);
    waits::assign(typed, &mut services, diags);
    expose::ingress_conflicts(&services, diags);
    expose::shared_node_ports(&mut services, diags);
    expose::service_name_conflicts(&services, diags);
    let (volumes, secrets, configs) = store.finish(&services, diags);
    App { name: typed.name.clone(), namespace: settings.namespace.clone(), services, volumes, secrets, configs }
}

/// The project name labels every object (`app.kubernetes.io/part-of`, `instance`); one that
/// is not a valid label value is shortened with a hash (see [`label_value`]).
fn project_label(project: &str, diags: &mut Diagnostics) {
    let label = label_value(project);
    if label != project {
        diags.push(
            crate::diag::Diagnostic::new(
                crate::diag::Code::NameChanged,
                format!("project `{project}` is labelled `{label}` in Kubernetes"),
            )
            .help("label values are at most 63 characters and end with a letter or digit; choose a shorter project name (`name:` or `-p`) to silence this"),
        );
    }
}

/// Loads compose files written to a temporary directory and lowers them, for tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::{Settings, lower};
    use crate::diag::{Code, Diagnostics};
    use crate::load::{self, Environment};
    use crate::model::{App, Service};
    use crate::source::Sources;

    /// One compose file, loaded from memory (`load::load_str`) in a directory that does not
    /// exist, checked and lowered.
    pub fn lower_text(text: &str) -> (App, Diagnostics) {
        lower_edited(text, |_| {})
    }

    /// [`lower_text`], with `edit` applied to the typed project before lowering: what `load`
    /// would have read from files (env files, secrets) is written into it here.
    pub fn lower_edited(text: &str, edit: impl FnOnce(&mut crate::compose::Project)) -> (App, Diagnostics) {
        let environment = Environment::new(BTreeMap::from([("HOME".to_string(), "/home/test".to_string())]));
        let mut sources = Sources::default();
        let mut diags = Diagnostics::default();
        let directory = Path::new("/nonexistent/kompile-test");
        let mut project = load::load_str(text, directory, &environment, &mut sources, &mut diags).unwrap();
        edit(&mut project.typed);
        crate::check::check(&project.typed, &mut diags);
        let app = lower(project.typed, &Settings::default(), &mut diags);
        (app, diags)
    }

    pub fn only_service(app: &App) -> &Service {
        assert_eq!(app.services.len(), 1, "{:?}", app.services);
        &app.services[0]
    }

    pub fn codes(diags: &Diagnostics) -> Vec<Code> {
        diags.items().iter().map(|d| d.code).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use crate::compose::{EnvFile, Spanned};
    use crate::model::MountSource;
    use crate::source::Span;

    use crate::diag::Code;

    #[test]
    fn label_keys_and_env_names_kubernetes_refuses_are_left_out() {
        let compose = "services:\n  a:\n    image: x:1\n    labels: {\"a\\nb\": x, com.example/ok: y, \"a b\": z}\n    environment: {\"E[\": 1, _OK.x-y: 2}\n";
        let (app, diags) = lower_edited(compose, |project| {
            let values = ["1BAD", "GOOD"].map(|name| (Spanned::new(name.to_string(), Span::NONE), "x".to_string()));
            let path = Spanned::new("/p/e.env".to_string(), Span::NONE);
            project.services[0].env_files.push(EnvFile { path, required: true, values: values.to_vec() });
        });
        let a = only_service(&app);
        assert_eq!(a.labels.keys().collect::<Vec<_>>(), ["com.example/ok"]);
        assert_eq!(a.environment.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["_OK.x-y"]);
        assert_eq!(
            a.env_from.as_ref().map(|e| e.data.keys().map(String::as_str).collect::<Vec<_>>()),
            Some(vec!["GOOD"])
        );
        let mut found = codes(&diags);
        found.sort();
        assert_eq!(found, [Code::InvalidLabelKey, Code::InvalidLabelKey, Code::InvalidEnvName, Code::InvalidEnvName]);
    }

    /// Values that are secrets (by name, or named in `x-kompile.secret_env`) go into the
    /// service's Secret, from `environment` (which wins) and from env files; the rest stays
    /// plain. Interpolated ones too: `.env` values land in the pod template otherwise.
    #[test]
    fn secret_environment_values_go_into_a_secret() {
        let compose = "services:\n  a:\n    image: x:1\n    environment: {DB_PASSWORD: '${PW:-s3cr$$t}', LEVEL: info, LICENSE: abc}\n    x-kompile: {secret_env: [LICENSE]}\n";
        let (app, _) = lower_edited(compose, |project| {
            let values = [("API_TOKEN", "t0k"), ("DB_PASSWORD", "file-pw"), ("MODE", "prod")]
                .map(|(k, v)| (Spanned::new(k.to_string(), Span::NONE), v.to_string()));
            let path = Spanned::new("/p/e.env".to_string(), Span::NONE);
            project.services[0].env_files.push(EnvFile { path, required: true, values: values.to_vec() });
        });
        let a = only_service(&app);
        let secret = a.secret_env.as_ref().expect("a Secret");
        assert_eq!(secret.k8s_name, "a-secret-env");
        let data: Vec<(&str, &str)> = secret.data.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(data, [("API_TOKEN", "t0k"), ("DB_PASSWORD", "s3cr$t"), ("LICENSE", "abc")], "environment wins");
        let plain = a.env_from.as_ref().map(|e| e.data.keys().cloned().collect::<Vec<_>>());
        assert_eq!(plain, Some(vec!["MODE".to_string()]));
        let values: Vec<_> = a.environment.iter().map(|e| (e.name.as_str(), e.value.as_deref())).collect();
        assert_eq!(values, [("DB_PASSWORD", Some("")), ("LEVEL", Some("info")), ("LICENSE", Some(""))]);
    }

    /// The reviewer's case: the database's password is also in the web service's URL. The
    /// whole URL goes into web's Secret (the kubelet passes it byte for byte) and the pod
    /// template takes it by `secretKeyRef`; the learned port is unchanged.
    #[test]
    fn values_holding_a_secret_go_into_the_secret() {
        let compose = "services:\n  db: {image: postgres:16.4, environment: {POSTGRES_PASSWORD: s3cr3tpw}}\n  web:\n    image: app:1\n    environment: {DATABASE_URL: 'postgres://app:s3cr3tpw@db:5432/app', CACHE_URL: 'redis://:x@cache', JDBC: 'jdbc:pg://db?password=s3cr3tpw', LEVEL: info}\n";
        let (app, diags) = lower_text(compose);
        let web = app.services.iter().find(|s| s.name == "web").expect("web");
        let secret = web.secret_env.as_ref().expect("a Secret");
        assert_eq!(secret.k8s_name, "web-secret-env");
        let keys: Vec<&str> = secret.data.keys().map(String::as_str).collect();
        assert_eq!(keys, ["CACHE_URL", "DATABASE_URL", "JDBC"]);
        assert_eq!(secret.data["DATABASE_URL"], "postgres://app:s3cr3tpw@db:5432/app", "stored as Compose passes it");
        let values: Vec<_> = web.environment.iter().map(|e| (e.name.as_str(), e.value.as_deref())).collect();
        assert_eq!(
            values,
            [("DATABASE_URL", Some("")), ("CACHE_URL", Some("")), ("JDBC", Some("")), ("LEVEL", Some("info"))]
        );
        let db = app.services.iter().find(|s| s.name == "db").expect("db");
        assert_eq!(db.expose.iter().map(|p| p.target).collect::<Vec<_>>(), [5432], "learned from the URL");
        assert!(codes(&diags).contains(&Code::LearnedPort), "{diags:?}");
        let manifests = format!("{:?}", crate::emit::emit(&app));
        assert!(!manifests.contains("s3cr3tpw"), "{manifests}");
    }

    /// An interpolated password (`.env`, the shell) lands in the value the pod would get.
    #[test]
    fn interpolated_url_passwords_go_into_the_secret() {
        let compose = "services:\n  web:\n    image: app:1\n    environment: {DATABASE_URL: 'postgres://app:${PW:-from-env}@db/app'}\n";
        let (app, _) = lower_text(compose);
        let web = only_service(&app);
        let data = web.secret_env.as_ref().map(|s| s.data.clone()).unwrap_or_default();
        assert_eq!(data.get("DATABASE_URL").map(String::as_str), Some("postgres://app:from-env@db/app"));
    }

    /// The value Compose passes wins, wherever the other went: a plain `environment` value
    /// over an env_file's secret one of the same name (the container must not take that by
    /// `secretKeyRef`), a later env_file's over an earlier one's (`envFrom` takes the Secret
    /// after the ConfigMap).
    #[test]
    fn the_winning_value_decides_between_secret_and_plain() {
        let compose = "services:\n  a:\n    image: x:1\n    environment: {URL: 'http://api:8000'}\n";
        let (app, _) = lower_edited(compose, |project| {
            let files = [
                vec![("URL", "postgres://u:pw@db/x"), ("DSN", "mysql://u:pw@db/x"), ("LOG", "mysql://u:pw@db/y")],
                vec![("DSN", "plain"), ("LOG", "ok")],
            ];
            for values in files {
                let values = values.into_iter().map(|(k, v)| (Spanned::new(k.to_string(), Span::NONE), v.to_string()));
                let path = Spanned::new("/p/e.env".to_string(), Span::NONE);
                project.services[0].env_files.push(EnvFile { path, required: true, values: values.collect() });
            }
        });
        let a = only_service(&app);
        assert_eq!(a.secret_env.as_ref().map(|s| s.data.len()), None, "no secret value wins");
        let plain = a.env_from.as_ref().map(|e| e.data.clone()).unwrap_or_default();
        assert_eq!(
            plain.into_iter().collect::<Vec<_>>(),
            [("DSN".into(), "plain".into()), ("LOG".into(), "ok".into())]
        );
    }

    #[test]
    fn valid_label_keys_and_env_names_raise_nothing() {
        let (_, diags) = lower_text(
            "services:\n  a:\n    image: x:1\n    labels: {com.example.team: x, example.com/a_b: y}\n    environment: {LOG_LEVEL: info, a.b-c: d}\n",
        );
        assert!(codes(&diags).is_empty(), "{diags:?}");
    }

    #[test]
    fn mounts_are_cleaned_and_the_last_at_a_target_wins() {
        let (app, diags) = lower_text(
            "services:\n  a:\n    image: x:1\n    volumes: ['one:/data', '/srv/../../etc/ssl:/certs/../x/', 'two:/data/.']\nvolumes:\n  one: {}\n  two: {}\n",
        );
        let mounts = &only_service(&app).mounts;
        let targets: Vec<_> = mounts.iter().map(|m| m.target.as_str()).collect();
        assert_eq!(targets, ["/data", "/x"], "the later mount takes the earlier one's place, as in Compose");
        assert_eq!(mounts[0].source, MountSource::ClaimTemplate { name: "two".into() }, "a's own: a StatefulSet's");
        assert!(app.volumes.is_empty(), "`one` is mounted by no one, `two` is a claim template");
        assert_eq!(mounts[1].source, MountSource::HostPath { path: "/etc/ssl".into() });
        assert!(codes(&diags).contains(&Code::HostPath) && !diags.has_errors(), "{diags:?}");
    }

    #[test]
    fn port_ranges_above_the_bound_are_errors() {
        let (app, diags) = lower_text(
            "services:\n  a:\n    image: x:1\n    ports: ['1-65535:1-65535', '8000-8099']\n    expose: ['1000-2000']\n",
        );
        assert_eq!(codes(&diags).iter().filter(|c| **c == Code::InvalidPort).count(), 2, "{diags:?}");
        assert!(diags.has_errors());
        assert_eq!(only_service(&app).ports.len(), 100, "a range of 100 ports is within the bound");
    }

    #[test]
    fn reservation_above_limit_is_lowered_to_the_limit() {
        let (app, diags) = lower_text(
            "services:\n  a:\n    image: x:1\n    deploy:\n      resources:\n        limits: {cpus: '0.5', memory: 512M}\n        reservations: {cpus: '1', memory: 1g}\n",
        );
        let r = &only_service(&app).resources;
        assert_eq!((r.cpu_request, r.memory_request), (Some(500), Some(512 << 20)));
        assert_eq!(codes(&diags), [Code::RequestAboveLimit, Code::RequestAboveLimit]);
    }

    #[test]
    fn invalid_port_names_fall_back_to_generated_ones() {
        let text = "services:\n  a:\n    image: x:1\n    healthcheck: {test: [CMD, ok]}\n    ports:\n      - {target: 80, published: 8080, name: Admin_Port}\n      - {target: 81, published: 8081, name: admin}\n";
        let (app, diags) = lower_text(text);
        let names: Vec<_> = only_service(&app).ports.iter().map(|p| p.name.clone()).collect();
        assert_eq!(names, [None, Some("admin".to_string())]);
        assert_eq!(codes(&diags), [Code::NameChanged]);
        let at = diags.items()[0].primary.as_ref().unwrap().span;
        assert_eq!(&text[at.start as usize..at.end as usize], "Admin_Port", "points at the name");
    }

    #[test]
    fn a_zero_resource_leaves_the_legacy_key_in_force() {
        let (app, _) = lower_text(
            "services:\n  a:\n    image: x:1\n    mem_limit: 1g\n    cpus: 2\n    deploy:\n      resources:\n        limits: {cpus: '0', memory: '0'}\n",
        );
        let r = &only_service(&app).resources;
        assert_eq!((r.cpu_limit, r.memory_limit), (Some(2000), Some(1 << 30)));
    }

    #[test]
    fn named_group_is_reported() {
        let (app, diags) = lower_text("services:\n  a:\n    image: x:1\n    user: '1000:staff'\n");
        assert_eq!(only_service(&app).user.as_deref(), Some("1000:staff"));
        assert_eq!(codes(&diags), [Code::NamedUser]);
    }

    #[test]
    fn empty_entrypoint_without_command_is_reported() {
        let (_, diags) = lower_text("services:\n  a:\n    image: x:1\n    entrypoint: []\n");
        assert_eq!(codes(&diags), [Code::UnsupportedKey]);
        let (_, diags) = lower_text("services:\n  a:\n    image: x:1\n    entrypoint: []\n    command: [run]\n");
        assert!(codes(&diags).is_empty());
    }

    #[test]
    fn volume_size_accepts_kubernetes_units() {
        let (app, diags) = lower_text(
            "services:\n  a:\n    image: x:1\n    volumes: ['data:/d', 'logs:/l']\n    x-kompile: {kind: deployment}\nvolumes:\n  data:\n    x-kompile: {size: 5Gi}\n  logs:\n    x-kompile: {size: lots}\n",
        );
        let sizes: Vec<_> = app.volumes.iter().map(|v| v.size).collect();
        assert_eq!(sizes, [Some(5 << 30), None]);
        assert!(codes(&diags).contains(&Code::InvalidSize));
    }

    #[test]
    fn secret_modes_written_with_a_leading_zero_are_octal() {
        let (app, _) = lower_text(
            "services:\n  a:\n    image: x:1\n    secrets:\n      - {source: s, mode: 0400}\nsecrets:\n  s:\n    file: s.txt\n",
        );
        let modes: Vec<_> = only_service(&app)
            .mounts
            .iter()
            .filter_map(|m| match &m.source {
                MountSource::Secret { mode, .. } => Some(*mode),
                _ => None,
            })
            .collect();
        assert_eq!(modes, [Some(0o400)]);
    }

    #[test]
    fn project_name_is_available_to_interpolation() {
        let (app, _) = lower_text(
            "name: shop\nservices:\n  a:\n    image: x:1\n    environment: {P: '${COMPOSE_PROJECT_NAME}'}\n",
        );
        assert_eq!(only_service(&app).environment[0].value.as_deref(), Some("shop"));
    }

    #[test]
    fn silently_ignored_keys_are_reported() {
        let (_, diags) = lower_text(
            "services:\n  a:\n    image: x:1\n    stop_signal: SIGINT\n    external_links: [redis]\n    networks:\n      default:\n        ipv4_address: 10.0.0.2\n    deploy:\n      labels: {a: b}\n      update_config: {failure_action: rollback}\n      restart_policy: {max_attempts: 3}\n      resources:\n        limits: {pids: 10}\n",
        );
        let count = codes(&diags).iter().filter(|c| **c == Code::UnsupportedKey).count();
        assert_eq!(count, 6, "{diags:?}");
        assert!(codes(&diags).contains(&Code::StopSignal), "{diags:?}");
    }

    #[test]
    fn extra_hosts_become_host_aliases_by_address() {
        let compose = "services:\n  a:\n    image: x:1\n    extra_hosts: ['db:10.0.0.5', 'cache=10.0.0.5', 'v6=[::1]', 'host.docker.internal:host-gateway']\n";
        let (app, diags) = lower_text(compose);
        let aliases: Vec<(&str, Vec<&str>)> = only_service(&app)
            .host_aliases
            .iter()
            .map(|a| (a.ip.as_str(), a.hostnames.iter().map(String::as_str).collect()))
            .collect();
        assert!(
            aliases.contains(&("10.0.0.5", vec!["cache", "db"]))
                || aliases.contains(&("10.0.0.5", vec!["db", "cache"]))
        );
        assert!(aliases.contains(&("::1", vec!["v6"])), "{aliases:?}");
        assert_eq!(aliases.len(), 2, "{aliases:?}");
        assert_eq!(codes(&diags), [Code::UnsupportedKey], "host-gateway has no address on a cluster");
    }

    #[test]
    fn pull_policy_becomes_image_pull_policy() {
        let (app, diags) = lower_text("services:\n  a:\n    image: x:1\n    pull_policy: if_not_present\n");
        assert_eq!(only_service(&app).pull_policy.as_deref(), Some("IfNotPresent"));
        assert!(codes(&diags).is_empty());
        let (app, diags) = lower_text("services:\n  a:\n    image: x:1\n    pull_policy: build\n");
        assert_eq!(only_service(&app).pull_policy, None);
        assert_eq!(codes(&diags), [Code::UnsupportedKey]);
    }

    #[test]
    fn extra_names_become_services_of_the_same_pods() {
        let compose = "services:\n  db:\n    image: postgres:16\n    expose: ['5432']\n    container_name: es_Main\n    hostname: db\n    networks:\n      default:\n        aliases: [database, MyDB]\n  web:\n    image: w:1\n    links: ['db:sql', 'db']\n";
        let (app, diags) = lower_text(compose);
        let db = app.services.iter().find(|s| s.name == "db").unwrap();
        assert_eq!(db.aliases, ["es-main", "database", "mydb", "sql"]);
        let found: Vec<Code> = codes(&diags).into_iter().filter(|c| *c != Code::MissingHealthcheck).collect();
        assert_eq!(found, [Code::NameChanged], "only `es_Main` changed beyond case: {diags:?}");
        let web = app.services.iter().find(|s| s.name == "web").unwrap();
        assert!(web.aliases.is_empty());
    }

    #[test]
    fn extra_names_that_collide_or_cannot_be_service_names_are_reported() {
        let compose = "services:\n  api:\n    image: a:1\n    expose: ['80']\n    networks:\n      default:\n        aliases: [web, shared, db.local, '---']\n  web:\n    image: w:1\n    expose: ['80']\n    container_name: shared\n  worker:\n    image: w:1\n    container_name: lonely\n";
        let (app, diags) = lower_text(compose);
        let aliases = |name: &str| app.services.iter().find(|s| s.name == name).unwrap().aliases.clone();
        assert_eq!(aliases("api"), ["shared"], "the first service in name order keeps a shared alias");
        assert!(aliases("web").is_empty() && aliases("worker").is_empty(), "a service without ports gets none");
        let mut found: Vec<Code> = codes(&diags).into_iter().filter(|c| *c != Code::MissingHealthcheck).collect();
        found.sort();
        assert_eq!(found, [Code::AliasTaken, Code::AliasTaken, Code::InvalidAlias, Code::InvalidAlias], "{diags:?}");
        assert!(diags.items().iter().filter(|d| d.code == Code::AliasTaken).all(|d| d.secondary.len() == 1));
    }

    #[test]
    fn ports_are_learned_from_how_others_address_a_service() {
        use crate::compose::{BindContents, ProjectFile, ProjectFiles};
        let compose = "services:\n  proxy:\n    image: nginx:1\n    ports: ['80:80']\n    volumes: ['./nginx.conf:/etc/nginx/nginx.conf:ro']\n  backend:\n    image: b:1\n    container_name: api\n  worker:\n    image: w:1\n    command: [run, --queue, 'cache:6379']\n  cache:\n    image: redis:7\n";
        let conf = b"# proxy_pass http://backend:1;\nlocation / { proxy_pass http://backend:8000; }\nlocation /a { proxy_pass http://api:8001; }\n";
        let (app, diags) = lower_edited(compose, |project| {
            let volume = &mut project.services[0].volumes[0].value;
            let file = ProjectFile { path: String::new(), bytes: conf.to_vec(), executable: false };
            let files = ProjectFiles { files: vec![file], single: true };
            volume.contents = Some(BindContents::Project { left_out: Vec::new(), shipped: Ok(files) });
        });
        let ports = |name: &str| -> Vec<u16> {
            app.services.iter().find(|s| s.name == name).unwrap().expose.iter().map(|p| p.target).collect()
        };
        assert_eq!(ports("backend"), [8000, 8001]);
        assert_eq!(ports("cache"), [6379]);
        assert!(ports("worker").is_empty() && ports("proxy").is_empty());
        let notes: Vec<&str> =
            diags.items().iter().filter(|d| d.code == Code::LearnedPort).map(|d| d.message.as_str()).collect();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes.iter().any(|n| n.contains("8000 (used by `proxy` in ") && n.contains("nginx.conf:2)")),
            "{notes:?}"
        );
        assert!(!diags.has_errors());
    }
}
