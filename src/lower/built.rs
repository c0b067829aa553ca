//! What lowering takes from the Dockerfile a service builds: the facts of
//! [`ImageConfig`], used where compose says nothing, so Kubernetes runs the container the
//! way `docker compose up` would.

use crate::compose::{self, BuildFile};
use crate::diag::{Code, Diagnostic};
use crate::dockerfile::ImageConfig;
use crate::model::{Healthcheck, Port};
use crate::source::{FileId, Span};

/// The image configuration of the stage a service builds, and the Dockerfile it is in.
#[derive(Debug, Clone)]
pub struct Built {
    pub config: ImageConfig,
    pub file: FileId,
    /// What of the build context the `.dockerignore` keeps out of the image.
    pub ignore: crate::dockerignore::Ignore,
}

/// The image whose files and user a service's container starts from, as far as kompile can
/// tell: the base of the image it builds, else the image it pulls. `None` for `scratch`, and
/// for a service that builds a Dockerfile kompile could not read (its `image` is the name to
/// push, not what it is made from).
pub fn base_image(built: Option<&Built>, service: &compose::Service) -> Option<String> {
    match built {
        Some(built) => built.config.base.clone(),
        None if service.build.is_some() => None,
        None => service.image.as_ref().map(|i| i.value.clone()),
    }
}

impl Built {
    /// The built image of a service, when it builds a local Dockerfile whose target exists.
    pub fn of(dockerfile: Option<&BuildFile>, service: &compose::Service) -> Option<Built> {
        let dockerfile = dockerfile?;
        let build = service.build.as_ref()?;
        let target = build.target.as_ref().map(|t| t.value.as_str());
        let args = compose::to_map(&build.args);
        let config = crate::dockerfile::image_config(&dockerfile.parsed, target, &args)?;
        Some(Built { config, file: dockerfile.file, ignore: dockerfile.ignore.clone() })
    }

    pub fn span(&self, range: &std::ops::Range<usize>) -> Span {
        Span::new(self.file, range.start, range.end)
    }

    /// EXPOSEd ports, for a service whose compose file declares none.
    pub fn ports(&self) -> Vec<Port> {
        let mut seen = std::collections::BTreeSet::new();
        let exposed = self.config.expose.iter().filter(|e| seen.insert((e.port, e.protocol.clone())));
        exposed
            .map(|e| Port {
                target: e.port,
                published: None,
                protocol: crate::model::Protocol::from_compose_name(&e.protocol),
                host_ip: None,
                name: None,
                app_protocol: None,
            })
            .collect()
    }

    /// The Dockerfile's HEALTHCHECK; `None` for `NONE`, for none, or for one kompile cannot see.
    pub fn healthcheck(&self) -> Option<Healthcheck> {
        self.config.healthcheck.as_ref()?.value.clone()?
    }

    /// The CMD the image runs, as an argv: `Ok(None)` when it is known to be empty, `Err`
    /// with the base image when it comes from one kompile cannot see.
    pub fn cmd(&self) -> Result<Option<Vec<String>>, String> {
        match (&self.config.cmd, &self.config.base) {
            (Some(fact), _) => Ok(fact.value.clone().filter(|argv| !argv.is_empty())),
            (None, Some(base)) => Err(base.clone()),
            (None, None) => Ok(None),
        }
    }

    /// USER as `runAsUser[:runAsGroup]` when numeric. A name or an unknowable value gives
    /// nothing; a name other than root is reported, because Kubernetes cannot check it.
    pub fn user(&self, service: &str) -> (Option<String>, Option<Diagnostic>) {
        let Some(fact) = &self.config.user else { return (None, None) };
        let Some(user) = fact.value.clone() else { return (None, None) };
        let (uid, gid) = user.split_once(':').map_or((user.as_str(), None), |(u, g)| (u, Some(g)));
        if uid.parse::<u32>().is_ok() {
            // A named group needs /etc/group; Kubernetes then uses the image's group itself.
            let numeric = match gid.filter(|g| g.parse::<u32>().is_ok()) {
                Some(gid) => format!("{uid}:{gid}"),
                None => uid.to_string(),
            };
            return (Some(numeric), None);
        }
        if uid == "root" {
            return (None, None);
        }
        (None, Some(named_user(service, uid, self.span(&fact.span))))
    }
}

fn named_user(service: &str, name: &str, at: Span) -> Diagnostic {
    Diagnostic::new(
        Code::NamedUser,
        format!("the image of service `{service}` runs as user `{name}`, a name Kubernetes cannot verify"),
    )
    .at(at, "no runAsUser or runAsNonRoot is set from this")
    .help(format!(
        "use the numeric id in the Dockerfile (`USER 10001`) or set `user: \"10001\"` in compose; \
         with a name, `runAsNonRoot` cannot be enforced and `{name}` may be root"
    ))
}
