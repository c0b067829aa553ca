//! Small hand-built models for tests.

use std::collections::BTreeMap;

use crate::model::{App, Mount, MountSource, Port, Protocol, Resources, Service, UpdateOrder, UpdatePolicy};
use crate::source::Span;

/// An empty project named `shop`.
pub(crate) fn app() -> App {
    App {
        name: "shop".into(),
        namespace: None,
        services: Vec::new(),
        volumes: Vec::new(),
        secrets: Vec::new(),
        configs: Vec::new(),
    }
}

/// A writable mount of `source` at `target`.
pub(crate) fn mount(target: &str, source: MountSource) -> Mount {
    Mount::new(target.into(), false, source)
}

/// A service with nothing but an image; `name` doubles as its `k8s_name`.
pub(crate) fn service(name: &str) -> Service {
    Service {
        name: name.into(),
        k8s_name: name.into(),
        span: Span::NONE,
        image: "nginx:1.27".into(),
        entrypoint: None,
        command: None,
        environment: Vec::new(),
        env_from: None,
        secret_env: None,
        working_dir: None,
        user: None,
        ports: Vec::new(),
        expose: Vec::new(),
        replicas: 1,
        update: UpdatePolicy {
            parallelism: 1,
            order: UpdateOrder::StartFirst,
            min_ready: None,
            progress_deadline: None,
            recreate: false,
        },
        healthcheck: None,
        resources: Resources::default(),
        mounts: Vec::new(),
        seeds: Vec::new(),
        stop_grace_period: None,
        read_only: false,
        privileged: false,
        fs_group: None,
        cap_add: Vec::new(),
        cap_drop: Vec::new(),
        tty: false,
        stdin_open: false,
        labels: BTreeMap::new(),
        pull_policy: None,
        host_aliases: Vec::new(),
        aliases: Vec::new(),
        networks: Vec::new(),
        isolation: crate::model::Isolation::Open,
        dns: None,
        hostname: None,
        subdomain: None,
        exposure: Default::default(),
        workload: Default::default(),
        waits: Vec::new(),
        runtime: Default::default(),
        availability: Default::default(),
        pod_of: None,
        sidecars: Vec::new(),
    }
}

/// A TCP port with no name and no host side.
pub(crate) fn port(target: u16) -> Port {
    Port { target, published: None, protocol: Protocol::Tcp, host_ip: None, name: None, app_protocol: None }
}
