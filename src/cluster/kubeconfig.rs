//! Finding the cluster the way kubectl does: `--kubeconfig`, else `KUBECONFIG` (a list of
//! files, merged), else `~/.kube/config`; `--context`, else the current context. Selecting
//! and checking are pure; only [`load`] and [`connect`] touch the outside.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use secrecy::ExposeSecret;
use serde_json::Value;

use super::client::Cluster;
use super::errors::{Failure, redact};
use super::target::Target;
use crate::diag::{Code, Diagnostic};

/// Reads the kubeconfig. Parse errors are reported without their text, which could quote a
/// line holding a credential.
pub fn load(path: Option<&Path>) -> Result<Kubeconfig, Diagnostic> {
    let result = match path {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    };
    result.map_err(|error| {
        let message = match &error {
            KubeconfigError::FindPath => {
                "no kubeconfig was found: `KUBECONFIG` is not set and there is no home directory".to_string()
            }
            KubeconfigError::ReadConfig(io, file) => format!("cannot read kubeconfig {}: {io}", file.display()),
            _ => "the kubeconfig is not valid".to_string(),
        };
        let help = match (&error, path) {
            (KubeconfigError::FindPath | KubeconfigError::ReadConfig(..), _) => {
                "pass `--kubeconfig FILE`, set `KUBECONFIG`, or create ~/.kube/config (`kubectl config`)".to_string()
            }
            (_, Some(path)) => format!("check {} with `kubectl config view`", path.display()),
            (_, None) => "check it with `kubectl config view`".to_string(),
        };
        Diagnostic::new(Code::NoKubeconfig, message).help(help)
    })
}

/// The context, cluster and user to use, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub context: String,
    pub cluster: String,
    pub user: String,
    pub server: String,
    pub namespace: Option<String>,
}

pub fn select(config: &Kubeconfig, context: Option<&str>) -> Result<Selection, Diagnostic> {
    let names: Vec<&str> = config.contexts.iter().map(|c| c.name.as_str()).collect();
    let Some(wanted) = context.or(config.current_context.as_deref()) else {
        return Err(
            Diagnostic::new(Code::UnknownContext, "the kubeconfig has no current context").help(choose_among(&names))
        );
    };
    let Some(found) = config.contexts.iter().find(|c| c.name == wanted) else {
        let mut d = Diagnostic::new(Code::UnknownContext, format!("the kubeconfig has no context `{wanted}`"));
        if let Some(close) = crate::suggest::closest(wanted, names.iter().copied()) {
            d = d.help(format!("did you mean `{close}`? {}", choose_among(&names)));
        } else {
            d = d.help(choose_among(&names));
        }
        return Err(d);
    };
    let ctx = found.context.clone().unwrap_or_default();
    let cluster = config.clusters.iter().find(|c| c.name == ctx.cluster).and_then(|c| c.cluster.clone());
    let Some(server) = cluster.and_then(|c| c.server) else {
        return Err(Diagnostic::new(
            Code::UnknownContext,
            format!("context `{wanted}` names cluster `{}`, which has no server in the kubeconfig", ctx.cluster),
        )
        .help("fix the cluster entry (`kubectl config set-cluster NAME --server=URL`)"));
    };
    Ok(Selection {
        context: wanted.to_string(),
        cluster: ctx.cluster,
        user: ctx.user.unwrap_or_default(),
        server,
        namespace: ctx.namespace,
    })
}

fn choose_among(names: &[&str]) -> String {
    if names.is_empty() {
        "the kubeconfig defines no contexts; create one with `kubectl config set-context`".to_string()
    } else {
        format!("pass `--context` with one of: {}", names.join(", "))
    }
}

/// The bearer token of the selected user, from `token` or `tokenFile`.
fn token(config: &Kubeconfig, user: &str) -> Option<String> {
    let auth = config.auth_infos.iter().find(|a| a.name == user)?.auth_info.as_ref()?;
    if let Some(token) = &auth.token {
        return Some(token.expose_secret().to_string());
    }
    let file = auth.token_file.as_ref()?;
    std::fs::read_to_string(file).ok().map(|t| t.trim().to_string())
}

/// The `exp` claim of a JWT, in seconds since the epoch; `None` for opaque tokens.
pub fn jwt_expiry(token: &str) -> Option<i64> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims["exp"].as_i64()
}

/// Refuses a JWT bearer token that has expired, before any request is sent.
pub fn check_token(token: Option<&str>, now: i64, selection: &Selection) -> Result<(), Diagnostic> {
    let Some(expiry) = token.and_then(jwt_expiry) else { return Ok(()) };
    if expiry > now {
        return Ok(());
    }
    let when = jiff::Timestamp::from_second(expiry).map(|t| t.to_string()).unwrap_or_else(|_| expiry.to_string());
    Err(Diagnostic::new(
        Code::TokenExpired,
        format!("the token of user `{}` (context `{}`) expired at {when}", selection.user, selection.context),
    )
    .help("get a fresh token (log in again, or re-run the command that wrote the kubeconfig)"))
}

/// Reads the selected user's `tokenFile` into `token`, trimmed: kubectl trims it, kube does
/// not, and a trailing newline (as `echo` and most editors leave) makes an invalid header. The
/// file is read once; kube would re-read it every minute, which a run of kompile does not need.
fn inline_token_file(config: &mut Kubeconfig, user: &str) -> Result<(), Diagnostic> {
    let Some(auth) = config.auth_infos.iter_mut().find(|a| a.name == user).and_then(|a| a.auth_info.as_mut()) else {
        return Ok(());
    };
    let Some(file) = auth.token_file.take() else { return Ok(()) };
    if auth.token.is_some() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&file).map_err(|error| {
        Diagnostic::new(Code::NoCredentials, format!("cannot read the token file {file} of user `{user}`: {error}"))
            .help("fix `tokenFile` in the kubeconfig, or log in again")
    })?;
    auth.token = Some(secrecy::SecretString::from(text.trim().to_string()));
    Ok(())
}

/// The program of the user's exec credential plugin, for messages.
fn plugin(config: &Kubeconfig, user: &str) -> Option<String> {
    let auth = config.auth_infos.iter().find(|a| a.name == user)?.auth_info.as_ref()?;
    auth.exec.as_ref()?.command.clone()
}

/// Builds the client for the selection. TLS verification stays as the kubeconfig says.
pub async fn connect(
    mut config: Kubeconfig,
    selection: &Selection,
    namespace: Option<&str>,
) -> Result<Cluster, Diagnostic> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    inline_token_file(&mut config, &selection.user)?;
    check_token(token(&config, &selection.user).as_deref(), now, selection)?;
    let plugin = plugin(&config, &selection.user);
    let options = KubeConfigOptions { context: Some(selection.context.clone()), ..KubeConfigOptions::default() };
    let mut client_config = kube::Config::from_custom_kubeconfig(config, &options).await.map_err(|error| {
        // Only the error's kind: its text can quote file contents.
        let kind = match error {
            KubeconfigError::ParseClusterUrl(_) => "its server URL is not valid",
            KubeconfigError::LoadCertificateAuthority(_) | KubeconfigError::ParseCertificates(_) => {
                "its certificate authority cannot be read"
            }
            KubeconfigError::LoadClientCertificate(_) | KubeconfigError::LoadClientKey(_) => {
                "its client certificate or key cannot be read"
            }
            _ => "its settings cannot be used",
        };
        Diagnostic::new(Code::NoKubeconfig, format!("cannot use context `{}`: {kind}", selection.context))
            .help("check the context with `kubectl config view --minify`")
    })?;
    if let Some(proxy) = &client_config.proxy_url {
        return Err(unsupported_proxy(&proxy.to_string(), selection));
    }
    // kompile retries and reports itself; a read timeout turns a hung server into a retry.
    client_config.default_retry = false;
    client_config.read_timeout = Some(Duration::from_secs(60));
    let namespace = namespace.map(str::to_string).unwrap_or_else(|| client_config.default_namespace.clone());
    let target = Target {
        context: selection.context.clone(),
        server: redact(&selection.server),
        user: selection.user.clone(),
        namespace,
        plugin,
    };
    let client = kube::Client::try_from(client_config).map_err(|error| match Failure::from_kube(error) {
        Failure::Credentials(reason) => super::errors::no_credentials(&reason, &target),
        Failure::Unreachable(reason) | Failure::Other(reason) => {
            super::errors::unreachable(&format!("cannot set up the connection: {reason}"), &target)
        }
        other => super::errors::diagnose(&other, &Default::default(), &target),
    })?;
    Ok(Cluster::new(client, target))
}

/// kompile is built without kube's proxy support (it would add a connector and more crates for
/// a rare setup), so a `proxy-url` is refused by name rather than failing as unreachable.
fn unsupported_proxy(proxy: &str, selection: &Selection) -> Diagnostic {
    Diagnostic::new(
        Code::NoKubeconfig,
        format!(
            "cannot use context `{}`: its cluster sets `proxy-url: {}`, and kompile does not support proxies",
            selection.context,
            redact(proxy)
        ),
    )
    .help("reach the API server directly (e.g. through `kubectl proxy` or a tunnel) and point a context at it")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster: {server: 'https://10.0.0.1:6443'}
contexts:
- name: dev
  context: {cluster: c1, user: alice, namespace: shop}
- name: prod
  context: {cluster: missing, user: bob}
users:
- name: alice
  user: {token: abc}
";

    fn config() -> Kubeconfig {
        Kubeconfig::from_yaml(CONFIG).expect("valid kubeconfig")
    }

    #[test]
    fn selects_the_current_context() {
        let s = select(&config(), None).expect("selected");
        assert_eq!(s.context, "dev");
        assert_eq!(s.server, "https://10.0.0.1:6443");
        assert_eq!(s.user, "alice");
        assert_eq!(s.namespace.as_deref(), Some("shop"));
        assert_eq!(token(&config(), "alice").as_deref(), Some("abc"));
    }

    #[test]
    fn unknown_context_suggests_the_close_one() {
        let d = select(&config(), Some("devv")).expect_err("unknown");
        assert_eq!(d.code, Code::UnknownContext);
        assert!(d.help.unwrap_or_default().contains("did you mean `dev`?"));
        let d = select(&config(), Some("prod")).expect_err("no cluster");
        assert!(d.message.contains("cluster `missing`"));
    }

    fn jwt(exp: i64) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.sig", engine.encode(r#"{"alg":"RS256"}"#), engine.encode(format!(r#"{{"exp":{exp}}}"#)))
    }

    #[test]
    fn expired_jwt_is_reported_with_its_time() {
        let s = select(&config(), None).expect("selected");
        assert_eq!(jwt_expiry(&jwt(1_700_000_000)), Some(1_700_000_000));
        assert_eq!(jwt_expiry("opaque-token"), None);
        let d = check_token(Some(&jwt(1_700_000_000)), 1_800_000_000, &s).expect_err("expired");
        assert_eq!(d.code, Code::TokenExpired);
        assert!(d.message.contains("expired at 2023-11-14T22:13:20Z"), "{}", d.message);
        assert!(!d.message.contains("eyJ"));
        assert!(check_token(Some(&jwt(1_900_000_000)), 1_800_000_000, &s).is_ok());
        assert!(check_token(Some("opaque"), 1_800_000_000, &s).is_ok());
    }
}
