//! `depends_on` on the cluster: one init container per dependency the pods wait for (what
//! `lower/waits.rs` decided), the ServiceAccount, Role and RoleBinding that let the API checks
//! read exactly the objects they name, and the `kompile.dev/depends-on` annotation that tells
//! `kompile apply` the order.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Capabilities, Container, PodSpec, SeccompProfile, SecurityContext, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

use super::labels::{service_annotations, service_labels};
use super::{Object, metadata};
use crate::model::{App, Service, WaitCheck, WaitCondition};
use crate::names::hashed_label;

/// On a workload: the workloads it waits for, `<name>=<condition>` joined by `,` (`db=healthy,
/// migrate=completed`), names being the dependencies' workload names.
pub const DEPENDS_ON_ANNOTATION: &str = "kompile.dev/depends-on";

/// The shell of a TCP wait: `$1` host, `$2` port, `$3` compose service. One line to start,
/// one a minute while waiting (`nc` itself is silenced), one at the end.
const CONNECT_SCRIPT: &str = r#"echo "waiting for $1:$2 (compose service $3) to accept connections"
i=0
until nc -z -w 2 "$1" "$2" >/dev/null 2>&1; do
  i=$((i+1))
  [ $((i % 30)) -eq 0 ] && echo "still waiting for $1:$2"
  sleep 2
done
echo "$1:$2 accepts connections""#;

/// `kubectl rollout status`: `$1` kind (lowercase), `$2` name, `$3` compose service.
const ROLLOUT_SCRIPT: &str = r#"echo "waiting for $1/$2 (compose service $3) to be ready"
i=0
until out=$(kubectl rollout status "$1/$2" --timeout=60s 2>&1); do
  i=$((i+1))
  [ $((i % 30)) -eq 1 ] && echo "still waiting for $1/$2: $(echo "$out" | tail -n 1 | cut -c 1-200)"
  sleep 2
done
echo "$1/$2 is ready""#;

/// A Job's conditions: `$1` name, `$2` compose service. `Failed` fails the init container, so
/// the pod shows the failure instead of waiting for ever.
const JOB_SCRIPT: &str = r#"echo "waiting for job/$1 (compose service $2) to complete"
i=0
while :; do
  s=$(kubectl get job "$1" -o 'jsonpath={.status.conditions[?(@.status=="True")].type}' 2>&1)
  case " $s " in
    *" Complete "*) echo "job/$1 completed"; exit 0 ;;
    *" Failed "*) echo "job/$1 failed; see kubectl describe job $1"; exit 1 ;;
  esac
  i=$((i+1))
  [ $((i % 30)) -eq 0 ] && echo "still waiting for job/$1: $(echo "${s:-running}" | tail -n 1 | cut -c 1-200)"
  sleep 2
done"#;

/// The init containers of `svc`'s pods, in `depends_on` order; `None` when it waits for
/// nothing.
pub(super) fn init_containers(svc: &Service) -> Option<Vec<Container>> {
    let containers: Vec<Container> = svc
        .waits
        .iter()
        .filter_map(|wait| {
            let (image, args) = match wait.check.as_ref()? {
                WaitCheck::Connect { port, image } => {
                    (image, vec![CONNECT_SCRIPT.into(), "wait".into(), wait.k8s_name.clone(), port.to_string()])
                }
                WaitCheck::Rollout { kind, image } => (
                    image,
                    vec![ROLLOUT_SCRIPT.into(), "wait".into(), kind.to_ascii_lowercase(), wait.k8s_name.clone()],
                ),
                WaitCheck::Job { image } => (image, vec![JOB_SCRIPT.into(), "wait".into(), wait.k8s_name.clone()]),
            };
            let mut command = vec!["sh".to_string(), "-c".to_string()];
            command.extend(args);
            command.push(wait.service.clone());
            Some(Container {
                name: container_name(svc, &wait.k8s_name),
                image: Some(image.clone()),
                command: Some(command),
                security_context: Some(restricted()),
                ..Container::default()
            })
        })
        .collect();
    super::non_empty_vec(containers)
}

/// `wait-for-<dependency>`, a DNS label that is not the service's own container's name.
fn container_name(svc: &Service, dependency: &str) -> String {
    let name = hashed_label(&format!("wait-for-{dependency}"), 63);
    if name == svc.k8s_name { hashed_label(&format!("{name}-init"), 63) } else { name }
}

/// What the Pod Security `restricted` profile asks; the waits need no rights in the pod.
fn restricted() -> SecurityContext {
    SecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(65534),
        run_as_group: Some(65534),
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities { drop: Some(vec!["ALL".to_string()]), add: None }),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".to_string(), localhost_profile: None }),
        ..SecurityContext::default()
    }
}

/// The annotation value for `svc`, `None` when it depends on nothing.
pub(super) fn depends_on(svc: &Service) -> Option<String> {
    let items: Vec<String> = svc.waits.iter().map(|w| format!("{}={}", w.k8s_name, w.condition.word())).collect();
    (!items.is_empty()).then(|| items.join(","))
}

/// The annotation read back: `(workload name, condition)`; unknown words are skipped.
pub fn parse_depends_on(value: &str) -> Vec<(String, WaitCondition)> {
    value
        .split(',')
        .filter_map(|item| {
            let (name, word) = item.trim().split_once('=')?;
            Some((name.to_string(), WaitCondition::from_word(word)?))
        })
        .collect()
}

/// Adds what the waits need to the emitted objects: the annotation on each workload, and for
/// services whose checks ask the API, the ServiceAccount (unless the pod already names one,
/// which then gets the rights), Role and RoleBinding.
pub(super) fn finish(app: &App, objects: &mut Vec<Object>) {
    let by_name: BTreeMap<&str, &Service> = app.services.iter().map(|s| (s.k8s_name.as_str(), s)).collect();
    let mut extra = Vec::new();
    for object in objects.iter_mut() {
        let Some(svc) = by_name.get(object.name()).copied() else { continue };
        let Some((meta, pod)) = workload_parts(object) else { continue };
        if let Some(value) = depends_on(svc) {
            meta.annotations.get_or_insert_with(BTreeMap::new).insert(DEPENDS_ON_ANNOTATION.to_string(), value);
        }
        let rules = rules(svc);
        if rules.is_empty() {
            continue;
        }
        let name = account_name(svc);
        let account = match pod.as_ref().and_then(|p| p.service_account_name.clone()) {
            Some(own) => own,
            None => {
                if let Some(pod) = pod {
                    pod.service_account_name = Some(name.clone());
                }
                extra.push(Object::ServiceAccount(Box::new(ServiceAccount {
                    metadata: metadata(app, &name, service_labels(app, svc), service_annotations(svc)),
                    ..ServiceAccount::default()
                })));
                name.clone()
            }
        };
        extra.push(Object::Role(Box::new(Role {
            metadata: metadata(app, &name, service_labels(app, svc), service_annotations(svc)),
            rules: Some(rules),
        })));
        extra.push(Object::RoleBinding(Box::new(RoleBinding {
            metadata: metadata(app, &name, service_labels(app, svc), service_annotations(svc)),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name: name.clone(),
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: account,
                namespace: app.namespace.clone(),
                api_group: None,
            }]),
        })));
    }
    objects.extend(extra);
}

/// `<service>-wait`: the ServiceAccount, Role and RoleBinding of a service's API waits.
fn account_name(svc: &Service) -> String {
    format!("{}-wait", svc.k8s_name)
}

/// The least the checks need: `get` on the named Jobs; `get`, `list`, `watch` on the named
/// workloads for `kubectl rollout status` (it lists and watches with a `metadata.name` field
/// selector, which the authorizer checks against `resourceNames`).
fn rules(svc: &Service) -> Vec<PolicyRule> {
    let mut by_resource: BTreeMap<(&str, String), Vec<String>> = BTreeMap::new();
    for wait in &svc.waits {
        let key = match &wait.check {
            Some(WaitCheck::Job { .. }) => ("batch", "jobs".to_string()),
            Some(WaitCheck::Rollout { kind, .. }) => ("apps", format!("{}s", kind.to_ascii_lowercase())),
            _ => continue,
        };
        let names = by_resource.entry(key).or_default();
        if !names.contains(&wait.k8s_name) {
            names.push(wait.k8s_name.clone());
        }
    }
    by_resource
        .into_iter()
        .map(|((group, resource), mut names)| {
            names.sort();
            let verbs: &[&str] = if group == "batch" { &["get"] } else { &["get", "list", "watch"] };
            PolicyRule {
                api_groups: Some(vec![group.to_string()]),
                resources: Some(vec![resource]),
                resource_names: Some(names),
                verbs: verbs.iter().map(|v| v.to_string()).collect(),
                non_resource_urls: None,
            }
        })
        .collect()
}

/// A workload's metadata and pod spec (a CronJob's is in its Job template).
fn workload_parts(
    object: &mut Object,
) -> Option<(&mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta, Option<&mut PodSpec>)> {
    match object {
        Object::Deployment(o) => Some((&mut o.metadata, o.spec.as_mut().and_then(|s| s.template.spec.as_mut()))),
        Object::StatefulSet(o) => Some((&mut o.metadata, o.spec.as_mut().and_then(|s| s.template.spec.as_mut()))),
        Object::DaemonSet(o) => Some((&mut o.metadata, o.spec.as_mut().and_then(|s| s.template.spec.as_mut()))),
        Object::Job(o) => Some((&mut o.metadata, o.spec.as_mut().and_then(|s| s.template.spec.as_mut()))),
        Object::CronJob(o) => {
            let pod = o.spec.as_mut().and_then(|s| s.job_template.spec.as_mut()).and_then(|j| j.template.spec.as_mut());
            Some((&mut o.metadata, pod))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::emit;
    use crate::emit::fixtures::{app, port, service};
    use crate::model::{Wait, WaitCondition};

    fn wait(name: &str, condition: WaitCondition, check: Option<WaitCheck>) -> Wait {
        Wait { service: format!("{name}-svc"), k8s_name: name.into(), condition, check }
    }

    fn connect(port: u16) -> Option<WaitCheck> {
        Some(WaitCheck::Connect { port, image: "busybox".into() })
    }

    fn job() -> Option<WaitCheck> {
        Some(WaitCheck::Job { image: "kubectl".into() })
    }

    /// The positional parameters after `sh -c SCRIPT wait`.
    fn parameters(container: &Container) -> Vec<String> {
        container.command.clone().unwrap_or_default().split_off(4)
    }

    #[test]
    fn each_init_container_targets_its_service_and_port_or_job() {
        let mut web = service("web");
        web.waits = vec![
            wait("db", WaitCondition::Healthy, connect(5432)),
            wait("migrate", WaitCondition::Completed, job()),
            wait(
                "worker",
                WaitCondition::Started,
                Some(WaitCheck::Rollout { kind: "StatefulSet".into(), image: "kubectl".into() }),
            ),
            wait("cron", WaitCondition::Started, None),
        ];
        let containers = init_containers(&web).unwrap();
        let names: Vec<_> = containers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["wait-for-db", "wait-for-migrate", "wait-for-worker"]);
        assert_eq!(parameters(&containers[0]), ["db", "5432", "db-svc"]);
        assert_eq!(parameters(&containers[1]), ["migrate", "migrate-svc"]);
        assert_eq!(parameters(&containers[2]), ["statefulset", "worker", "worker-svc"]);
        let command = containers[0].command.clone().unwrap();
        assert_eq!(&command[..2], ["sh", "-c"]);
        assert!(command[2].contains(r#"nc -z -w 2 "$1" "$2""#));
        assert!(containers[1].command.as_ref().unwrap()[2].contains(r#"kubectl get job "$1""#));
        assert_eq!(containers[1].image.as_deref(), Some("kubectl"));
        assert!(containers.iter().all(|c| c.security_context.as_ref().and_then(|s| s.run_as_non_root) == Some(true)));
        assert!(init_containers(&service("db")).is_none());
    }

    #[test]
    fn an_init_container_never_takes_the_service_containers_name() {
        let mut s = service("wait-for-db");
        s.waits = vec![wait("db", WaitCondition::Started, connect(5432))];
        assert_eq!(init_containers(&s).unwrap()[0].name, "wait-for-db-init");
        assert_eq!(container_name(&s, &"d".repeat(63)).len(), 63);
    }

    /// The scripts run as written: with `sh` (when there is one), each waits for what its
    /// parameters name, says so, and stops; `nc` and `kubectl` are stand-ins on PATH.
    #[test]
    fn scripts_print_what_they_wait_for_and_stop() {
        let Ok(dir) = tempfile::tempdir() else { return };
        if std::process::Command::new("sh").arg("-c").arg("true").status().is_err() {
            return;
        }
        let tool = |name: &str, body: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        tool("nc", r#"echo "$@" >> "$(dirname "$0")/nc.log"; [ "$5" = 5432 ]"#);
        tool(
            "kubectl",
            r#"echo "$@" >> "$(dirname "$0")/kubectl.log"; [ "$1" = get ] && echo "SuccessCriteriaMet Complete"; exit 0"#,
        );
        // A script that never stops would hang the test: the hundredth pause ends it.
        tool(
            "sleep",
            r#"n=$(cat "$(dirname "$0")/naps" 2>/dev/null || echo 0); echo $((n + 1)) > "$(dirname "$0")/naps"; [ "$n" -lt 100 ] || kill "$PPID""#,
        );
        let path = format!("{}:{}", dir.path().display(), std::env::var("PATH").unwrap_or_default());
        let run = |script: &str, args: &[&str]| {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(script)
                .arg("wait")
                .args(args)
                .env("PATH", &path)
                .output()
                .unwrap();
            (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
        };
        let (code, out) = run(CONNECT_SCRIPT, &["db", "5432", "db"]);
        assert_eq!(code, Some(0));
        assert_eq!(
            out,
            "waiting for db:5432 (compose service db) to accept connections\ndb:5432 accepts connections\n"
        );
        assert_eq!(std::fs::read_to_string(dir.path().join("nc.log")).unwrap(), "-z -w 2 db 5432\n");
        let (code, out) = run(JOB_SCRIPT, &["migrate", "migrate"]);
        assert_eq!((code, out.lines().last()), (Some(0), Some("job/migrate completed")));
        let log = std::fs::read_to_string(dir.path().join("kubectl.log")).unwrap();
        assert!(log.starts_with("get job migrate -o"), "{log}");
        let (code, out) = run(ROLLOUT_SCRIPT, &["statefulset", "db", "db"]);
        assert_eq!((code, out.lines().last()), (Some(0), Some("statefulset/db is ready")));
        tool("kubectl", r#"echo "Failed""#);
        let (code, out) = run(JOB_SCRIPT, &["migrate", "migrate"]);
        assert_eq!((code, out.lines().last()), (Some(1), Some("job/migrate failed; see kubectl describe job migrate")));
    }

    #[test]
    fn api_waits_get_an_account_that_may_read_only_the_named_objects() {
        let mut a = app();
        let mut web = service("web");
        web.waits = vec![
            wait("db", WaitCondition::Healthy, connect(5432)),
            wait("migrate", WaitCondition::Completed, job()),
            wait(
                "cache",
                WaitCondition::Started,
                Some(WaitCheck::Rollout { kind: "Deployment".into(), image: "k".into() }),
            ),
        ];
        let mut db = service("db");
        db.expose = vec![port(5432)];
        a.services = vec![db, web];
        let objects = emit(&a);
        let kinds: Vec<_> = objects.iter().map(|o| (o.kind(), o.name())).collect();
        assert!(
            kinds.contains(&("ServiceAccount", "web-wait")) && kinds.contains(&("RoleBinding", "web-wait")),
            "{kinds:?}"
        );
        assert!(!kinds.iter().any(|(_, n)| *n == "db-wait"), "db waits for nothing");
        let role = objects.iter().find_map(|o| if let Object::Role(r) = o { Some(r) } else { None }).unwrap();
        let rules: Vec<_> = role
            .rules
            .clone()
            .unwrap()
            .into_iter()
            .map(|r| {
                (r.api_groups.unwrap()[0].clone(), r.resources.unwrap()[0].clone(), r.resource_names.unwrap(), r.verbs)
            })
            .collect();
        assert_eq!(
            rules[0],
            (
                "apps".into(),
                "deployments".into(),
                vec!["cache".to_string()],
                vec!["get".into(), "list".into(), "watch".into()]
            )
        );
        assert_eq!(rules[1], ("batch".into(), "jobs".into(), vec!["migrate".to_string()], vec!["get".to_string()]));
        let deployment = objects.iter().find_map(|o| match o {
            Object::Deployment(d) if o.name() == "web" => Some(d),
            _ => None,
        });
        let deployment = deployment.unwrap();
        let pod = deployment.spec.clone().unwrap().template.spec.unwrap();
        assert_eq!(pod.service_account_name.as_deref(), Some("web-wait"));
        assert_eq!(pod.init_containers.map(|c| c.len()), Some(3));
        let annotations = deployment.metadata.annotations.clone().unwrap();
        assert_eq!(annotations[DEPENDS_ON_ANNOTATION], "db=healthy,migrate=completed,cache=started");
        assert_eq!(
            parse_depends_on(&annotations[DEPENDS_ON_ANNOTATION]),
            [
                ("db".into(), WaitCondition::Healthy),
                ("migrate".into(), WaitCondition::Completed),
                ("cache".into(), WaitCondition::Started)
            ]
        );
    }

    #[test]
    fn a_service_account_the_pod_already_has_gets_the_rights() {
        let mut a = app();
        let mut web = service("web");
        web.waits = vec![wait("migrate", WaitCondition::Completed, job())];
        a.services = vec![web];
        let mut objects = emit(&a);
        objects.retain(|o| !matches!(o, Object::ServiceAccount(_) | Object::Role(_) | Object::RoleBinding(_)));
        for object in &mut objects {
            if let Some((meta, Some(pod))) = workload_parts(object) {
                meta.annotations = None;
                pod.service_account_name = Some("own".into());
            }
        }
        finish(&a, &mut objects);
        assert!(!objects.iter().any(|o| matches!(o, Object::ServiceAccount(_))));
        let binding = objects.iter().find_map(|o| if let Object::RoleBinding(b) = o { Some(b) } else { None }).unwrap();
        assert_eq!(binding.subjects.as_ref().unwrap()[0].name, "own");
    }
}
