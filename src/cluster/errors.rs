//! Failures talking to the cluster, and the diagnostics users see for them. The mapping from
//! a failure to a diagnostic is pure and tested here.

use serde_json::Value;

use super::target::Target;
use crate::diag::{Code, Diagnostic};
use crate::emit::Origin;

/// A Kubernetes `Status` error body, or what could be read of a non-JSON error answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    pub code: u16,
    pub reason: String,
    pub message: String,
    /// `(field, message)` pairs from `details.causes`.
    pub causes: Vec<(String, String)>,
    /// Seconds the server asked to wait before retrying.
    pub retry_after: Option<u64>,
}

impl Status {
    /// The 404 the server answers for an object in a namespace that does not exist (a dry
    /// run cannot create the namespace first, as apply does).
    pub fn is_missing_namespace(&self) -> bool {
        self.code == 404 && self.message.starts_with("namespaces ")
    }

    /// Reads a `Status` body; the HTTP status is used when the body has no `code` (as for a
    /// proxy's HTML error page).
    pub fn from_body(http_status: u16, body: &Value, raw: &[u8]) -> Status {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let code = body["code"].as_u64().and_then(|c| u16::try_from(c).ok()).unwrap_or(http_status);
        let mut message = text(&body["message"]);
        if message.is_empty() {
            // Not a Status: show a short, single-line excerpt of what came back.
            message = String::from_utf8_lossy(raw).split_whitespace().collect::<Vec<_>>().join(" ");
            message.truncate(200);
        }
        let causes = body["details"]["causes"]
            .as_array()
            .map(|causes| causes.iter().map(|c| (text(&c["field"]), text(&c["message"]))).collect())
            .unwrap_or_default();
        Status { code, reason: text(&body["reason"]), message, causes, retry_after: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server answered with an error.
    Status(Status),
    /// No usable answer: refused, timed out, TLS failure, cut off.
    Unreachable(String),
    /// Something kompile could not even send or read (never expected; reported as is).
    Other(String),
    /// A 2xx answer that is not what was asked for (a proxy's page, `{}`): what it was.
    BadResponse(String),
    /// The user's credentials could not be obtained (exec plugin, token file): why, without
    /// the plugin's arguments, environment or output.
    Credentials(String),
}

impl Failure {
    /// Maps a kube error without its `Debug` form, which could include request headers.
    pub fn from_kube(error: kube::Error) -> Failure {
        match error {
            kube::Error::Api(status) => Failure::Status(Status {
                code: status.code,
                reason: status.reason.clone(),
                message: status.message.clone(),
                causes: status
                    .details
                    .as_ref()
                    .map(|d| d.causes.iter().map(|c| (c.field.clone(), c.message.clone())).collect())
                    .unwrap_or_default(),
                retry_after: None,
            }),
            kube::Error::HyperError(e) => Failure::Unreachable(redact(&source_chain(&e))),
            kube::Error::Service(e) => match e.downcast_ref::<kube::client::AuthError>() {
                Some(auth) => Failure::Credentials(credentials(auth)),
                None => Failure::Unreachable(redact(&source_chain(e.as_ref()))),
            },
            kube::Error::Auth(auth) => Failure::Credentials(credentials(&auth)),
            kube::Error::TlsRequired => Failure::Unreachable("the server requires TLS".into()),
            other => Failure::Other(redact(&other.to_string())),
        }
    }

    /// Worth another attempt: throttled, a server error, or no answer.
    pub fn is_transient(&self) -> bool {
        match self {
            Failure::Status(s) => s.code == 429 || (500..600).contains(&s.code),
            Failure::Unreachable(_) => true,
            Failure::Other(_) | Failure::BadResponse(_) | Failure::Credentials(_) => false,
        }
    }

    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Failure::Status(s) => s.retry_after,
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Failure::Status(s) if s.code == 404)
    }

    pub fn is_forbidden(&self) -> bool {
        matches!(self, Failure::Status(s) if s.code == 403)
    }
}

/// Why credentials could not be had. kube's own messages quote the plugin's whole command line
/// (arguments and environment, which often hold secrets) and its output (which holds the
/// token), so only the kind of failure and the exit status are kept.
pub fn credentials(error: &kube::client::AuthError) -> String {
    use kube::client::AuthError;
    match error {
        AuthError::AuthExecRun { out, .. } => format!("the credential plugin failed ({})", out.status),
        AuthError::AuthExecStart(io) => format!("the credential plugin could not be started: {io}"),
        AuthError::AuthExecParse(_) => "the credential plugin printed something that is not an ExecCredential".into(),
        AuthError::ExecPluginFailed => "the credential plugin's answer has no status".into(),
        AuthError::MissingCommand => "the exec section names no command".into(),
        AuthError::ReadTokenFile(io, path) => format!("cannot read the token file {}: {io}", path.display()),
        _ => "the credential plugin or auth provider failed".into(),
    }
}

/// `scheme://user:password@host` with the password replaced by `***`, wherever it occurs in
/// `text`: server and proxy URLs may carry credentials, and messages name them. The passwords
/// are found as everywhere else (`compose::url_passwords`).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    // In order and apart: each is inside its own URL's authority.
    for password in crate::compose::url_passwords(text) {
        if password.start < from {
            continue;
        }
        out.push_str(&text[from..password.start]);
        out.push_str("***");
        from = password.end;
    }
    out.push_str(&text[from..]);
    out
}

/// The innermost causes joined, e.g. `error trying to connect: tcp connect error: Connection
/// refused`; kube's and hyper's messages name no credential.
fn source_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// What a failed request was about, for messages.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// The verb as RBAC spells it: `get`, `list`, `patch`, `delete`.
    pub verb: &'static str,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The compose service the object was made from.
    pub service: Option<String>,
    /// Where the service is defined.
    pub origin: Option<Origin>,
}

impl Subject {
    fn describe(&self) -> String {
        let object = super::plan::describe(&self.kind, self.namespace.as_deref(), &self.name);
        match &self.service {
            Some(service) => format!("{object} (from compose service `{service}`)"),
            None => object,
        }
    }
}

/// The diagnostic for `failure` while doing `subject` on `target`.
pub fn diagnose(failure: &Failure, subject: &Subject, target: &Target) -> Diagnostic {
    match failure {
        Failure::Unreachable(reason) => unreachable(reason, target),
        Failure::Other(reason) => Diagnostic::new(Code::RequestFailed, format!("{}: {reason}", subject.describe())),
        Failure::BadResponse(what) => bad_response(what, subject, target),
        Failure::Credentials(reason) => no_credentials(reason, target),
        Failure::Status(status) => match status.code {
            401 => Diagnostic::new(
                Code::Unauthorized,
                format!(
                    "the cluster at {} did not accept the credentials of user `{}` (context `{}`) to {} {}",
                    target.server, target.user, target.context, subject.verb, subject.kind
                ),
            )
            .help("log in again or refresh the token for this user in the kubeconfig"),
            403 => forbidden(status, subject, target),
            409 if is_field_conflict(status) => conflict(status, subject),
            400 | 422 => rejected(status, subject),
            429 | 500..=599 => Diagnostic::new(
                Code::ServerUnavailable,
                format!(
                    "the cluster at {} kept failing to {} {}: {} {}",
                    target.server,
                    subject.verb,
                    subject.describe(),
                    status.code,
                    status.message
                ),
            )
            .help("kompile tried 5 times with growing pauses; try again later or check the API server's health"),
            _ => Diagnostic::new(
                Code::RequestFailed,
                format!("cannot {} {}: {} ({})", subject.verb, subject.describe(), status.message, status.code),
            ),
        },
    }
}

pub fn unreachable(reason: &str, target: &Target) -> Diagnostic {
    Diagnostic::new(
        Code::ClusterUnreachable,
        format!("cannot reach the cluster at {} (context `{}`): {reason}", target.server, target.context),
    )
    .help("check that the cluster is running and that this context points at it (`kubectl cluster-info`)")
}

fn bad_response(what: &str, subject: &Subject, target: &Target) -> Diagnostic {
    let verb = if subject.verb == "delete" { "deleted" } else { "applied" };
    Diagnostic::new(
        Code::BadResponse,
        format!(
            "{} was not {verb}: the cluster at {} answered with success, but {what}",
            subject.describe(),
            target.server
        ),
    )
    .help(
        "the API server answers a write with the object it wrote; something else answered (a proxy, a gateway, or a \
         `server` URL that is not the API server): check the context's server URL with `kubectl cluster-info`",
    )
}

/// Credentials that could not be obtained, naming the user, context and plugin program only.
pub fn no_credentials(reason: &str, target: &Target) -> Diagnostic {
    let plugin = match &target.plugin {
        Some(program) => format!(" (credential plugin `{program}`)"),
        None => String::new(),
    };
    Diagnostic::new(
        Code::NoCredentials,
        format!(
            "cannot get the credentials of user `{}`{plugin} for context `{}`: {reason}",
            target.user, target.context
        ),
    )
    .help("run the plugin yourself to see its message, or log in again; check the user with `kubectl config view --minify`")
}

fn forbidden(status: &Status, subject: &Subject, target: &Target) -> Diagnostic {
    let place = match &subject.namespace {
        Some(ns) => format!(" in namespace `{ns}`"),
        None => String::new(),
    };
    Diagnostic::new(
        Code::Forbidden,
        format!(
            "user `{}` may not {} {}{place} (context `{}`): {}",
            target.user, subject.verb, subject.kind, target.context, status.message
        ),
    )
    .help(format!(
        "ask a cluster administrator for a Role that allows `{}` on {}, or use another context",
        subject.verb, subject.kind
    ))
}

fn is_field_conflict(status: &Status) -> bool {
    status.reason == "Conflict" && status.message.starts_with("Apply failed")
}

fn conflict(status: &Status, subject: &Subject) -> Diagnostic {
    // Causes carry `conflict with "kubectl"` or `conflict with "kubectl" using apps/v1`.
    let mut lines = Vec::new();
    for (field, message) in &status.causes {
        let manager = message.split('"').nth(1).unwrap_or(message.as_str());
        lines.push(format!("  {field} is managed by `{manager}`"));
    }
    if lines.is_empty() {
        lines.push(format!("  {}", status.message));
    }
    let d = Diagnostic::new(
        Code::FieldConflict,
        format!("{}: another field manager owns fields kompile sets:\n{}", subject.describe(), lines.join("\n")),
    )
    .help(
        "these fields were changed with another tool (e.g. `kubectl scale` or `kubectl edit`) after kompile set them; \
         re-run with `--force-conflicts` to set them back to the compose file's values, or change the compose file to \
         the values now live",
    );
    at_origin(d, subject)
}

/// Points the diagnostic at the compose service the object came from.
fn at_origin(d: Diagnostic, subject: &Subject) -> Diagnostic {
    match &subject.origin {
        Some(origin) => d.at(origin.service, "the object was made from this service"),
        None => d,
    }
}

/// Points at the compose key that produced the first rejected field kompile can trace, else
/// at the service.
fn at_field(d: Diagnostic, subject: &Subject, causes: &[(String, String)]) -> Diagnostic {
    let Some(origin) = &subject.origin else { return d };
    for (field, _) in causes {
        if let (span, Some(key)) = origin.of_field(field) {
            return d.at(span, format!("`{key}` here became `{field}`"));
        }
    }
    at_origin(d, subject)
}

fn rejected(status: &Status, subject: &Subject) -> Diagnostic {
    let mut message = format!("the cluster rejected {}: {}", subject.describe(), status.message);
    for (field, cause) in &status.causes {
        if !status.message.contains(cause.as_str()) {
            message.push_str(&format!("\n  {field}: {cause}"));
        }
    }
    let help = match &subject.service {
        Some(service) => format!("the object was made from compose service `{service}`; fix the value there"),
        None => "this object is not made from one compose service; check the project-level settings".into(),
    };
    at_field(Diagnostic::new(Code::ObjectRejected, message).help(help), subject, &status.causes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> Target {
        Target {
            context: "kind-dev".into(),
            server: "https://10.0.0.1:6443".into(),
            user: "alice".into(),
            ..Target::default()
        }
    }

    fn subject(verb: &'static str) -> Subject {
        Subject {
            verb,
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "web".into(),
            service: Some("web".into()),
            origin: None,
        }
    }

    fn status(body: Value) -> Failure {
        Failure::Status(Status::from_body(500, &body, b""))
    }

    #[test]
    fn reads_a_captured_conflict_and_lists_managers() {
        let body = json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
            "message":"Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas",
            "reason":"Conflict","details":{"causes":[{"reason":"FieldManagerConflict",
            "message":"conflict with \"kubectl\"","field":".spec.replicas"}]},"code":409});
        let d = diagnose(&status(body), &subject("patch"), &target());
        assert_eq!(d.code, Code::FieldConflict);
        assert!(d.message.contains(".spec.replicas is managed by `kubectl`"), "{}", d.message);
        assert!(d.help.unwrap_or_default().contains("--force-conflicts"));
    }

    #[test]
    fn rejected_objects_point_at_the_service() {
        let body = json!({"kind":"Status","code":422,"reason":"Invalid",
            "message":"Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1",
            "details":{"causes":[{"field":"spec.replicas","message":"must be greater than or equal to 0"}]}});
        let d = diagnose(&status(body), &subject("patch"), &target());
        assert_eq!(d.code, Code::ObjectRejected);
        assert!(d.message.contains("from compose service `web`"));
        assert!(d.message.contains("spec.replicas: must be greater"));
    }

    #[test]
    fn forbidden_names_user_and_verb() {
        let body = json!({"code":403,"reason":"Forbidden","message":"deployments.apps is forbidden"});
        let d = diagnose(&status(body), &subject("delete"), &target());
        assert_eq!(d.code, Code::Forbidden);
        assert!(d.message.contains("user `alice` may not delete Deployment in namespace `shop`"), "{}", d.message);
    }

    #[test]
    fn unauthorized_and_unreachable_name_the_server_and_context() {
        let d = diagnose(&status(json!({"code":401,"message":"Unauthorized"})), &subject("get"), &target());
        assert_eq!(d.code, Code::Unauthorized);
        assert!(d.message.contains("https://10.0.0.1:6443") && d.message.contains("kind-dev"));
        let d = diagnose(&Failure::Unreachable("connection refused".into()), &subject("get"), &target());
        assert_eq!(d.code, Code::ClusterUnreachable);
        assert!(d.message.contains("https://10.0.0.1:6443") && d.message.contains("`kind-dev`"));
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(redact("https://user:pw@host:6443/api"), "https://user:***@host:6443/api");
        assert_eq!(
            redact("proxy \"http://a:b:c@p:3128/\" and https://h"),
            "proxy \"http://a:***@p:3128/\" and https://h"
        );
        assert_eq!(redact("https://user@host"), "https://user@host");
        assert_eq!(redact("no url here"), "no url here");
    }

    #[test]
    fn bad_responses_and_missing_credentials_name_the_target() {
        let d = diagnose(&Failure::BadResponse("an empty JSON object `{}`".into()), &subject("patch"), &target());
        assert_eq!(d.code, Code::BadResponse);
        assert!(
            d.message.contains("Deployment shop/web (from compose service `web`) was not applied"),
            "{}",
            d.message
        );
        let mut with_plugin = target();
        with_plugin.plugin = Some("aws".into());
        let d = diagnose(
            &Failure::Credentials("the credential plugin failed (exit status: 1)".into()),
            &subject("get"),
            &with_plugin,
        );
        assert_eq!(d.code, Code::NoCredentials);
        assert!(d.message.contains("user `alice` (credential plugin `aws`) for context `kind-dev`"), "{}", d.message);
    }

    #[test]
    fn transient_failures_are_retried_and_a_non_status_body_is_summarised() {
        let s = Status::from_body(503, &Value::Null, b"<html>\n<b>Service Unavailable</b></html>");
        assert_eq!(s.code, 503);
        assert_eq!(s.message, "<html> <b>Service Unavailable</b></html>");
        assert!(Failure::Status(s).is_transient());
        assert!(!status(json!({"code":409})).is_transient());
    }
}
