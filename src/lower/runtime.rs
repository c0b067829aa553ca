//! A service's runtime settings → [`Runtime`]: lifecycle hooks, the stop signal, sysctls,
//! `shm_size`, GPUs, `deploy.placement`, and the pod settings of `x-kompile` (service account,
//! image pull secrets, node selector, tolerations). Everything that does not carry over is
//! reported here; `emit/runtime.rs` only writes the result down.

use crate::compose::{self, Device, Hook, ProjectSettings, ServiceSettings, Spanned};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Mount, MountSource, Runtime, Spread};
use crate::names::{is_label_value, is_qualified_name};
use crate::source::Span;

/// `lifecycle.stopSignal` is alpha (feature gate `ContainerStopSignals`, off by default) from
/// 1.33 through 1.37, and an API server with the gate off drops the field; KEP-4960 plans it
/// as beta, on by default, in 1.38.
pub const STOP_SIGNAL_SINCE: (u32, u32) = (1, 38);

/// The sysctls Kubernetes calls safe: the kubelet allows them without `--allowed-unsafe-sysctls`.
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// Safe from Kubernetes 1.32.
const SAFE_SYSCTLS_SINCE_1_32: &[&str] = &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];

/// The signals Kubernetes accepts in `stopSignal` on Linux (besides `SIGRTMIN+n`/`SIGRTMAX-n`).
const SIGNALS: &[&str] = &[
    "SIGABRT",
    "SIGALRM",
    "SIGBUS",
    "SIGCHLD",
    "SIGCLD",
    "SIGCONT",
    "SIGFPE",
    "SIGHUP",
    "SIGILL",
    "SIGINT",
    "SIGIO",
    "SIGIOT",
    "SIGKILL",
    "SIGPIPE",
    "SIGPOLL",
    "SIGPROF",
    "SIGPWR",
    "SIGQUIT",
    "SIGSEGV",
    "SIGSTKFLT",
    "SIGSTOP",
    "SIGSYS",
    "SIGTERM",
    "SIGTRAP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGUSR1",
    "SIGUSR2",
    "SIGVTALRM",
    "SIGWINCH",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGRTMIN",
    "SIGRTMAX",
];

pub struct RuntimeLowering<'a, 'b> {
    pub service: &'a compose::Service,
    pub project: &'a ProjectSettings,
    /// The settings the service's Kompose labels stand for (`kompose::settings`).
    pub labels: &'b ServiceSettings,
    pub diags: &'b mut Diagnostics,
}

impl RuntimeLowering<'_, '_> {
    fn name(&self) -> &str {
        &self.service.name.value
    }

    pub fn lower(&mut self) -> Runtime {
        let keys = &self.service.runtime;
        let own = &self.service.settings;
        let labels = self.labels;
        let mut runtime = Runtime {
            post_start: self.hooks(&keys.post_start, "post_start"),
            pre_stop: self.hooks(&keys.pre_stop, "pre_stop"),
            sysctls: self.sysctls(),
            gpus: self.gpus(),
            service_account: own.service_account.clone().or_else(|| labels.service_account.clone()).map(|s| s.value),
            image_pull_secrets: names(if own.image_pull_secrets.is_empty() {
                &labels.image_pull_secrets
            } else {
                &own.image_pull_secrets
            }),
            tolerations: own.tolerations.iter().map(|t| t.value.clone()).collect(),
            ..Runtime::default()
        };
        runtime.stop_signal = self.stop_signal();
        if runtime.stop_signal.is_some() {
            runtime.os = Some("linux".to_string());
        }
        self.placement(&mut runtime);
        for (key, value) in &own.node_selector {
            runtime.node_selector.insert(key.value.clone(), value.clone());
        }
        runtime
    }

    /// The hooks of one key as one exec command: a single plain hook runs as written; several,
    /// or one with `working_dir` or `environment`, run as one `/bin/sh -c` script, in order,
    /// stopping at the first that fails.
    fn hooks(&mut self, hooks: &[Spanned<Hook>], key: &str) -> Option<Vec<String>> {
        for hook in hooks {
            self.untranslated_hook_parts(hook, key);
        }
        let hooks: Vec<&Spanned<Hook>> = hooks.iter().filter(|h| !h.command.is_empty()).collect();
        match hooks.as_slice() {
            [] => None,
            [hook] if hook.working_dir.is_none() && hook.environment.is_empty() => Some(hook.command.clone()),
            _ => {
                let script: Vec<String> = hooks.iter().map(|h| shell_line(h)).collect();
                self.diags.push(
                    Diagnostic::new(
                        Code::HookNeedsShell,
                        format!("the `{key}` hooks of service `{}` run as one `/bin/sh -c` script", self.name()),
                    )
                    .at(hooks[0].span, "run by /bin/sh in the container")
                    .help("Kubernetes runs one command per hook and sets no directory or variables for it; the image needs /bin/sh"),
                );
                Some(vec!["/bin/sh".to_string(), "-c".to_string(), script.join(" && ")])
            }
        }
    }

    /// A hook runs inside the container, as its user and with its privileges.
    fn untranslated_hook_parts(&mut self, hook: &Spanned<Hook>, key: &str) {
        let service = self.name().to_string();
        if let Some(user) = &hook.user {
            self.diags.push(
                Diagnostic::new(
                    Code::HookNotTranslated,
                    format!("a `{key}` hook of service `{service}` asks for user `{}`", user.value),
                )
                .at(user.span, "runs as the container's user")
                .help("Kubernetes runs hooks as the container's own user; give the container that user, or make the hook work without it"),
            );
        }
        if let Some(privileged) = &hook.privileged {
            self.diags.push(
                Diagnostic::new(Code::HookNotTranslated, format!("a `{key}` hook of service `{service}` asks to be privileged"))
                    .at(privileged.span, "runs with the container's privileges")
                    .help("Kubernetes runs hooks with the container's own privileges; set `privileged: true` on the service if the hook needs it"),
            );
        }
    }

    /// `stop_signal`, where the target Kubernetes version can set it; SIGTERM is what the
    /// kubelet sends anyway.
    fn stop_signal(&mut self) -> Option<String> {
        let written = self.service.runtime.stop_signal.as_ref()?;
        let signal = signal_name(&written.value);
        if signal.as_deref() == Some("SIGTERM") {
            return None;
        }
        let version = self.project.kubernetes_version();
        if let Some(signal) = signal.as_ref().filter(|_| version >= STOP_SIGNAL_SINCE) {
            return Some(signal.clone());
        }
        let why = match signal {
            None => "it is not a signal name Kubernetes accepts".to_string(),
            Some(_) => format!(
                "`lifecycle.stopSignal` needs Kubernetes {}.{} (kompile targets {}.{}; it is alpha, off by default, from 1.33)",
                STOP_SIGNAL_SINCE.0, STOP_SIGNAL_SINCE.1, version.0, version.1
            ),
        };
        self.diags.push(
            Diagnostic::new(
                Code::StopSignal,
                format!("`stop_signal: {}` of service `{}` cannot be set: {why}", written.value, self.name()),
            )
            .at(written.span, "the image's STOPSIGNAL, else SIGTERM, stops the container")
            .help("build the image with `STOPSIGNAL` (or make the process stop cleanly on SIGTERM); on a cluster that has `stopSignal`, set `x-kompile: {kubernetes_version: \"1.38\"}` at the top of the file"),
        );
        None
    }

    /// `sysctls` for the pod. Unsafe ones are left out and reported: the kubelet refuses a pod
    /// that sets one unless every node allow-lists it, so keeping it would stop a service that
    /// ran under Compose (they are tuning, such as redis' `net.core.somaxconn`).
    fn sysctls(&mut self) -> Vec<(String, String)> {
        let version = self.project.kubernetes_version();
        let mut out = Vec::new();
        for (key, value) in &self.service.runtime.sysctls {
            let name = key.value.replace('/', ".");
            if !is_sysctl_name(&name) {
                self.diags.push(
                    Diagnostic::new(
                        Code::UnsafeSysctl,
                        format!("sysctl `{}` of service `{}` is not a name Kubernetes accepts", key.value, self.name()),
                    )
                    .at(key.span, "left out")
                    .help("sysctl names are dotted lowercase words such as `net.core.somaxconn`"),
                );
                continue;
            }
            let safe = SAFE_SYSCTLS.contains(&name.as_str())
                || (version >= (1, 32) && SAFE_SYSCTLS_SINCE_1_32.contains(&name.as_str()));
            if !safe {
                self.diags.push(
                    Diagnostic::new(
                        Code::UnsafeSysctl,
                        format!("sysctl `{name}` of service `{}` is unsafe to Kubernetes: the kubelet refuses a pod that sets it unless the nodes allow-list it", self.name()),
                    )
                    .at(key.span, "left out, so the pod starts")
                    .help(format!("if your nodes allow it (kubelet `--allowed-unsafe-sysctls={name}`), add it to the pod's `securityContext.sysctls` with a kustomize patch")),
                );
                continue;
            }
            out.push((name, value.clone()));
        }
        out
    }

    /// GPUs the service reserves (`deploy.resources.reservations.devices` with the `gpu`
    /// capability, and `gpus`), as an `nvidia.com/gpu` count.
    fn gpus(&mut self) -> Option<u32> {
        let service = self.service;
        let reserved = service.deploy.resources.devices.iter().map(|d| (d, false));
        let requested = service.runtime.gpus.iter().map(|d| (d, true));
        let mut total: Option<u32> = None;
        for (device, is_gpus_key) in reserved.chain(requested) {
            if let Some(count) = self.gpu_count(device, is_gpus_key) {
                total = Some(total.unwrap_or(0).saturating_add(count));
            }
        }
        total
    }

    fn gpu_count(&mut self, device: &Spanned<Device>, is_gpus_key: bool) -> Option<u32> {
        let gpu = is_gpus_key || device.capabilities.iter().any(|c| c == "gpu");
        let nvidia = device.driver.as_deref().is_none_or(|d| d == "nvidia");
        if !gpu || !nvidia {
            let what = match &device.driver {
                Some(driver) if gpu => format!("GPUs of driver `{driver}`"),
                _ => format!("devices with capabilities [{}]", device.capabilities.join(", ")),
            };
            self.device_warning(device.span, format!("service `{}` reserves {what}, which kompile does not translate", self.name()), "left out", "kompile requests NVIDIA GPUs as `nvidia.com/gpu`; request other devices through their device plugin's resource in a kustomize patch");
            return None;
        }
        match (device.count, device.device_ids.len()) {
            (Some(Some(count)), _) => Some(count),
            (_, ids) if ids > 0 => {
                self.device_warning(device.span, format!("service `{}` reserves GPUs by id; Kubernetes cannot pin devices", self.name()), format!("requests {ids} GPU(s), any of the node's"), "the device plugin chooses which GPUs a pod gets; use node labels to pick nodes with the right GPUs");
                u32::try_from(ids).ok()
            }
            _ => {
                self.device_warning(
                    device.span,
                    format!("service `{}` reserves all GPUs; Kubernetes requests a number of them", self.name()),
                    "requests 1 GPU",
                    "write `count: N` with the number of GPUs the service needs",
                );
                Some(1)
            }
        }
    }

    fn device_warning(&mut self, at: Span, message: String, label: impl Into<String>, help: &str) {
        self.diags
            .push(Diagnostic::new(Code::DeviceNotTranslated, message).at(at, label.into()).help(help.to_string()));
    }

    /// `deploy.placement`: constraints on node labels, hostname, OS and architecture become
    /// the node selector (`==`) and required node affinity (`!=`); spread preferences and
    /// `max_replicas_per_node` spread the pods.
    fn placement(&mut self, runtime: &mut Runtime) {
        let placement = &self.service.deploy.placement;
        for constraint in &placement.constraints {
            self.constraint(constraint, runtime);
        }
        for spread in &placement.spreads {
            match spread.strip_prefix("node.labels.").filter(|k| is_qualified_name(k)) {
                Some(key) => runtime.spread.push(Spread { topology_key: key.to_string(), max_skew: 1, hard: false }),
                None => self.placement_warning(
                    spread.span,
                    format!("placement preference `spread: {}`", spread.value),
                    "only `spread: node.labels.<label>` has a counterpart (a topology spread constraint)",
                ),
            }
        }
        match placement.max_replicas_per_node.as_ref().map(|m| (m.value, m.span)) {
            Some((1, _)) => runtime.one_per_node = true,
            Some((0, _)) | None => {}
            Some((n, span)) => {
                runtime.spread.push(Spread { topology_key: HOSTNAME.to_string(), max_skew: n, hard: true });
                self.diags.push(
                    Diagnostic::new(Code::PlacementNotTranslated, format!("`max_replicas_per_node: {n}` of service `{}` becomes a spread with at most {n} more pods on one node than on another", self.name()))
                        .at(span, "approximated")
                        .help("Kubernetes caps pods per node only at one (pod anti-affinity); a topology spread with maxSkew keeps nodes even instead"),
                );
            }
        }
    }

    fn constraint(&mut self, constraint: &Spanned<String>, runtime: &mut Runtime) {
        let text = constraint.value.as_str();
        let Some((field, equal, value)) = split_constraint(text) else {
            return self.placement_warning(
                constraint.span,
                format!("constraint `{text}`"),
                "write `node.labels.<label>==<value>` (or `!=`)",
            );
        };
        let (key, value) = match field {
            "node.role" => {
                let manager = (value == "manager") == equal;
                if manager {
                    self.placement_warning(constraint.span, format!("constraint `{text}`"), "Kubernetes runs workloads on worker nodes; control-plane nodes are tainted against them. Add a toleration and a node selector in `x-kompile` if you mean it");
                }
                return;
            }
            "node.hostname" => (HOSTNAME.to_string(), value.to_string()),
            "node.platform.os" => ("kubernetes.io/os".to_string(), value.to_ascii_lowercase()),
            "node.platform.arch" => ("kubernetes.io/arch".to_string(), go_arch(value).to_string()),
            other => match other.strip_prefix("node.labels.") {
                Some(label) => (label.to_string(), value.to_string()),
                None => {
                    return self.placement_warning(constraint.span, format!("constraint `{text}`"), "only `node.labels.*`, `node.hostname`, `node.platform.os` and `node.platform.arch` have counterparts");
                }
            },
        };
        if !is_qualified_name(&key) || !is_label_value(&value) {
            return self.placement_warning(constraint.span, format!("constraint `{text}`"), "Kubernetes node labels have qualified-name keys and values of at most 63 letters, digits, `-`, `_`, `.`");
        }
        if !equal {
            match runtime.node_exclusions.iter_mut().find(|(k, _)| *k == key) {
                Some((_, values)) => values.push(value),
                None => runtime.node_exclusions.push((key, vec![value])),
            }
            return;
        }
        match runtime.node_selector.get(&key) {
            Some(other) if *other != value => self.placement_warning(
                constraint.span,
                format!("constraint `{text}`, which contradicts `{key}=={other}`"),
                "no node has two values for one label; keep one constraint",
            ),
            _ => {
                runtime.node_selector.insert(key, value);
            }
        }
    }

    fn placement_warning(&mut self, at: Span, what: String, help: &str) {
        self.diags.push(
            Diagnostic::new(
                Code::PlacementNotTranslated,
                format!("{what} of service `{}` is not translated", self.name()),
            )
            .at(at, "not translated")
            .help(help.to_string()),
        );
    }
}

/// The well-known node label of the node's name.
const HOSTNAME: &str = "kubernetes.io/hostname";

/// `shm_size` as a memory-backed emptyDir at `/dev/shm` of that size, unless the service
/// mounts something there itself (its own mount wins, as in Docker).
pub fn shm(service: &compose::Service, mounts: &mut Vec<Mount>) {
    let Some(size) = &service.runtime.shm_size else { return };
    if mounts.iter().any(|m| m.target == "/dev/shm") {
        return;
    }
    mounts.push(Mount::new("/dev/shm".to_string(), false, MountSource::Tmpfs { size: Some(size.value) }));
}

fn names(list: &[Spanned<String>]) -> Vec<String> {
    list.iter().map(|s| s.value.clone()).collect()
}

/// One hook as a shell command: `cd DIR && K=V command args`, every word quoted.
fn shell_line(hook: &Hook) -> String {
    let mut words = Vec::new();
    if let Some(dir) = &hook.working_dir {
        words.push(format!("cd {} &&", shell_words::quote(dir)));
    }
    // A name the shell cannot assign (`a.b`) still reaches the command through `env`.
    if hook.environment.iter().any(|(k, _)| !is_shell_name(k)) {
        words.push("env".to_string());
    }
    for (key, value) in &hook.environment {
        words.push(format!("{}={}", key, shell_words::quote(value)));
    }
    words.extend(hook.command.iter().map(|w| shell_words::quote(w).into_owned()));
    let line = words.join(" ");
    if hook.working_dir.is_some() { format!("({line})") } else { line }
}

fn is_shell_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `SIGINT`, `sigint`, `INT` → `SIGINT`; `None` for what Kubernetes does not accept (numbers).
fn signal_name(text: &str) -> Option<String> {
    let upper = text.trim().to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    let realtime = |prefix: &str, sign: char| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix(sign))
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| (1..=15).contains(&n))
    };
    (SIGNALS.contains(&name.as_str()) || realtime("SIGRTMIN", '+') || realtime("SIGRTMAX", '-')).then_some(name)
}

/// What the API server accepts as a sysctl name: dot-separated lowercase words.
fn is_sysctl_name(name: &str) -> bool {
    let word = |w: &str| {
        !w.is_empty()
            && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && w.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && w.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
    };
    name.len() <= 253 && name.split('.').all(word)
}

/// `node.labels.zone == a` → (`node.labels.zone`, true, `a`); `!=` is false.
fn split_constraint(text: &str) -> Option<(&str, bool, &str)> {
    let (at, equal) = match (text.find("=="), text.find("!=")) {
        (Some(at), _) => (at, true),
        (None, Some(at)) => (at, false),
        (None, None) => return None,
    };
    let (field, value) = (text[..at].trim(), text[at + 2..].trim());
    (!field.is_empty() && !value.is_empty()).then_some((field, equal, value))
}

/// Docker's architecture names as Kubernetes (Go) writes them.
fn go_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "armv7l" | "armhf" => "arm",
        "i386" | "i686" => "386",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_named_as_kubernetes_names_them() {
        assert_eq!(signal_name("int").as_deref(), Some("SIGINT"));
        assert_eq!(signal_name("SIGQUIT").as_deref(), Some("SIGQUIT"));
        assert_eq!(signal_name("SIGRTMIN+3").as_deref(), Some("SIGRTMIN+3"));
        assert_eq!(signal_name("9"), None);
        assert_eq!(signal_name("SIGNOPE"), None);
    }

    #[test]
    fn constraints_split_on_the_operator() {
        assert_eq!(split_constraint("node.labels.zone == a"), Some(("node.labels.zone", true, "a")));
        assert_eq!(split_constraint("node.role!=manager"), Some(("node.role", false, "manager")));
        assert_eq!(split_constraint("node.labels.zone"), None);
    }

    #[test]
    fn hooks_become_one_quoted_script() {
        let hook = Hook {
            command: vec!["echo".into(), "it's up".into()],
            working_dir: Some("/app dir".into()),
            environment: vec![("MODE".into(), "a b".into())],
            ..Hook::default()
        };
        assert_eq!(shell_line(&hook), "(cd '/app dir' && MODE='a b' echo 'it'\\''s up')");
        let odd =
            Hook { command: vec!["run".into()], environment: vec![("a.b".into(), "1".into())], ..Hook::default() };
        assert_eq!(shell_line(&odd), "env a.b=1 run");
    }

    #[test]
    fn sysctl_names() {
        assert!(is_sysctl_name("net.core.somaxconn"));
        assert!(is_sysctl_name("net.ipv4.conf.eth0.forwarding"));
        assert!(!is_sysctl_name("net..core") && !is_sysctl_name("Net.Core"));
    }
}

#[cfg(test)]
mod lowering_tests {
    use crate::diag::Code;
    use crate::lower::testing::{codes, lower_text, only_service};

    #[test]
    fn stop_signal_depends_on_the_target_version() {
        let service = "services:\n  a:\n    image: x:1\n    stop_signal: SIGQUIT\n";
        let (app, diags) = lower_text(service);
        assert_eq!(only_service(&app).runtime.stop_signal, None);
        assert_eq!(codes(&diags), [Code::StopSignal]);
        let (app, diags) = lower_text(&format!("x-kompile: {{kubernetes_version: \"1.38\"}}\n{service}"));
        let runtime = &only_service(&app).runtime;
        assert_eq!((runtime.stop_signal.as_deref(), runtime.os.as_deref()), (Some("SIGQUIT"), Some("linux")));
        assert!(codes(&diags).is_empty(), "{diags:?}");
    }

    #[test]
    fn placement_constraints_become_node_selection() {
        let compose = "services:\n  a:\n    image: x:1\n    deploy:\n      placement:\n        constraints: ['node.labels.zone==a', 'node.platform.arch == aarch64', 'node.hostname!=n1', 'node.id==x']\n        max_replicas_per_node: 2\n";
        let (app, diags) = lower_text(compose);
        let runtime = &only_service(&app).runtime;
        let selector: Vec<(&str, &str)> = runtime.node_selector.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(selector, [("kubernetes.io/arch", "arm64"), ("zone", "a")]);
        assert_eq!(runtime.node_exclusions, [("kubernetes.io/hostname".to_string(), vec!["n1".to_string()])]);
        assert_eq!(runtime.spread.len(), 1);
        assert_eq!(codes(&diags), [Code::PlacementNotTranslated, Code::PlacementNotTranslated]);
    }

    #[test]
    fn gpus_count_and_other_devices_are_reported() {
        let compose = "services:\n  a:\n    image: x:1\n    gpus: all\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - {capabilities: [gpu], count: 2}\n            - {capabilities: [tpu], count: 1}\n";
        let (app, diags) = lower_text(compose);
        assert_eq!(only_service(&app).runtime.gpus, Some(3));
        assert_eq!(codes(&diags), [Code::DeviceNotTranslated, Code::DeviceNotTranslated]);
    }
}
