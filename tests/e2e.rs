//! The cluster scenarios against a real cluster, opt-in: set `KOMPILE_E2E_KUBECONFIG` to a
//! kubeconfig of a throwaway cluster (kind, k3d, minikube). Each test works in its own new
//! namespace. Without the variable every test passes after printing that it was skipped.
//! See README "Testing against a real cluster" and .github/workflows/e2e.yml.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{self, Run};

fn kubeconfig() -> Option<PathBuf> {
    match std::env::var_os("KOMPILE_E2E_KUBECONFIG") {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => {
            support::skip("set KOMPILE_E2E_KUBECONFIG to a throwaway cluster's kubeconfig to run the e2e tests");
            None
        }
    }
}

/// A project in a temporary directory and a namespace of its own.
struct Project {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    namespace: String,
}

impl Project {
    fn new(kubeconfig: PathBuf, test: &str) -> Project {
        let stamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        let namespace = format!("kompile-e2e-{test}-{}", stamp % 1_000_000);
        Project { dir: tempfile::tempdir().expect("temp dir"), kubeconfig, namespace }
    }

    fn write(&self, compose: &str) {
        std::fs::write(self.dir.path().join("compose.yaml"), compose).expect("compose written");
    }

    fn kompile(&self, args: &[&str]) -> Run {
        let command = support::kompile(self.dir.path()).args(args);
        // PATH for the credential plugins a real cluster's kubeconfig may name.
        let command = command.envs(std::env::var_os("PATH").map(|path| ("PATH", path)));
        command.args(["--kubeconfig", path(&self.kubeconfig), "-n", &self.namespace]).run()
    }
}

impl Drop for Project {
    /// Best effort: the cluster is throwaway anyway.
    fn drop(&mut self) {
        let _ = Command::new("kubectl")
            .args(["--kubeconfig", path(&self.kubeconfig), "delete", "namespace", &self.namespace, "--wait=false"])
            .output();
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

const WEB: &str = "name: e2e
services:
  web:
    image: nginx:1.27-alpine
    ports: ['8080:80']
";

#[test]
fn e2e_apply_diff_prune() {
    let Some(config) = kubeconfig() else { return };
    let p = Project::new(config, "apply");
    p.write(&format!("{WEB}  cache:\n    image: redis:7-alpine\n"));
    let created = p.kompile(&["apply", "--timeout", "4m"]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    assert!(created.stdout.contains("Deployment"), "{}", created.stdout);

    let same = p.kompile(&["diff"]);
    assert_eq!(same.code, 0, "{}", same.stdout);
    let again = p.kompile(&["apply", "--no-wait"]);
    assert!(again.stdout.contains("created 0, changed 0"), "{}", again.stdout);

    p.write(WEB);
    let preview = p.kompile(&["diff", "--prune"]);
    assert_eq!(preview.code, 1);
    assert!(preview.stdout.contains("deleted Deployment"), "{}", preview.stdout);
    let pruned = p.kompile(&["apply", "--prune", "--no-wait"]);
    assert_eq!(pruned.code, 0, "{}", pruned.stderr);
    assert!(pruned.stdout.contains("cache pruned"), "{}", pruned.stdout);

    let dry = p.kompile(&["apply", "--dry-run=server"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
}

#[test]
fn e2e_failing_rollouts_are_explained() {
    let Some(config) = kubeconfig() else { return };
    let p = Project::new(config, "fail");
    p.write(
        "name: e2e\nservices:\n  crash:\n    image: busybox:1.36\n    command: ['sh', '-c', 'exit 3']\n  \
         pull:\n    image: registry.invalid/kompile/nope:1\n",
    );
    let failed = p.kompile(&["apply", "--timeout", "90s"]);
    assert_eq!(failed.code, 3, "{}", failed.stderr);
    assert!(failed.stderr.contains("K410"), "{}", failed.stderr);
    assert!(failed.stderr.contains("CrashLoopBackOff") || failed.stderr.contains("Error"), "{}", failed.stderr);
    assert!(failed.stderr.contains("ImagePull") || failed.stderr.contains("ErrImage"), "{}", failed.stderr);
}

#[test]
fn e2e_conflicts_are_reported() {
    let Some(config) = kubeconfig() else { return };
    let kubectl = support::runs("kubectl", &["version", "--client"]).then_some(());
    if support::tool("kubectl", "the conflict is made with `kubectl scale`", kubectl).is_none() {
        return;
    }
    let p = Project::new(config, "conflict");
    p.write(WEB);
    assert_eq!(p.kompile(&["apply", "--no-wait"]).code, 0);
    let scaled = Command::new("kubectl")
        .args(["--kubeconfig", path(&p.kubeconfig), "-n", &p.namespace, "scale", "deployment/web", "--replicas=2"])
        .status();
    assert!(scaled.is_ok_and(|s| s.success()), "kubectl scale failed");
    let conflict = p.kompile(&["apply", "--no-wait"]);
    assert_eq!(conflict.code, 3, "{}", conflict.stderr);
    assert!(conflict.stderr.contains("K406") && conflict.stderr.contains(".spec.replicas"), "{}", conflict.stderr);
    assert_eq!(p.kompile(&["apply", "--no-wait", "--force-conflicts"]).code, 0);
}
