//! The keys the Compose Specification defines, for unknown-key warnings with suggestions.

pub const TOP_LEVEL: &[&str] =
    &["version", "name", "include", "services", "networks", "volumes", "configs", "secrets", "models"];

pub const SERVICE: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "pull_refresh_after",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
];

pub const BUILD: &[&str] = &[
    "context",
    "dockerfile",
    "dockerfile_inline",
    "entitlements",
    "args",
    "ssh",
    "labels",
    "cache_from",
    "cache_to",
    "no_cache",
    "additional_contexts",
    "network",
    "provenance",
    "sbom",
    "pull",
    "target",
    "shm_size",
    "extra_hosts",
    "isolation",
    "privileged",
    "secrets",
    "tags",
    "ulimits",
    "platforms",
];

pub const HEALTHCHECK: &[&str] =
    &["test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"];

pub const DEPLOY: &[&str] = &[
    "mode",
    "endpoint_mode",
    "replicas",
    "labels",
    "rollback_config",
    "update_config",
    "resources",
    "restart_policy",
    "placement",
];

pub const UPDATE_CONFIG: &[&str] = &["parallelism", "delay", "failure_action", "monitor", "max_failure_ratio", "order"];

pub const RESOURCES: &[&str] = &["limits", "reservations"];
pub const RESOURCE_LIMITS: &[&str] = &["cpus", "memory", "pids"];
pub const RESOURCE_RESERVATIONS: &[&str] = &["cpus", "memory", "generic_resources", "devices"];
pub const RESTART_POLICY: &[&str] = &["condition", "delay", "max_attempts", "window"];
pub const PORT: &[&str] = &["name", "mode", "host_ip", "target", "published", "protocol", "app_protocol"];
pub const VOLUME_MOUNT: &[&str] =
    &["type", "source", "target", "read_only", "consistency", "bind", "volume", "tmpfs", "image"];
pub const FILE_REFERENCE: &[&str] = &["source", "target", "uid", "gid", "mode"];
pub const DEPENDS_ON: &[&str] = &["condition", "restart", "required"];

pub const NETWORK: &[&str] = &[
    "name",
    "driver",
    "driver_opts",
    "ipam",
    "external",
    "internal",
    "enable_ipv4",
    "enable_ipv6",
    "attachable",
    "labels",
];
pub const VOLUME: &[&str] = &["name", "driver", "driver_opts", "external", "labels"];
pub const SECRET: &[&str] =
    &["name", "file", "environment", "external", "labels", "driver", "driver_opts", "template_driver"];
pub const CONFIG: &[&str] = &["name", "file", "environment", "content", "external", "labels", "template_driver"];
