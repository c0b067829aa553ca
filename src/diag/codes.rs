//! The code table, the one list of codes: each row gives the variant, id, name, default
//! severity and summary, and the macro includes the page docs/codes/<id>.md from the id, so a
//! code cannot exist without its page and nothing else lists the codes. Codes are stable:
//! never renumber, only add. Grouped by stage: K0xx loading, K1xx compose semantics, K2xx
//! translation to Kubernetes, K3xx Dockerfiles, K4xx the cluster.

use super::Severity;

macro_rules! codes {
    ($($variant:ident $id:literal $name:literal $severity:ident $summary:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable id, e.g. `K101`.
            pub fn id(self) -> &'static str {
                match self { $(Code::$variant => $id,)* }
            }

            /// The kebab-case name, e.g. `unknown-key`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            pub fn default_severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            /// One line: what the code is about.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }

            /// The documentation page, docs/codes/<ID>.md verbatim, compiled in for
            /// `kompile explain`: a row whose page is missing does not compile.
            pub fn page(self) -> &'static str {
                match self { $(Code::$variant => include_str!(concat!("../../docs/codes/", $id, ".md")),)* }
            }
        }
    };
}

codes! {
    ReadFailed        "K001" "read-failed"          Error   "a file could not be read";
    NotText           "K002" "not-text"             Error   "a file is not UTF-8 text";
    YamlSyntax        "K003" "yaml-syntax"          Error   "the YAML is malformed";
    DuplicateKey      "K004" "duplicate-key"        Error   "a mapping has the same key twice";
    YamlLimit         "K005" "yaml-limit"           Error   "the YAML nests too deep or expands too many aliases";
    NoComposeFile     "K006" "no-compose-file"      Error   "no compose file was found";
    WriteFailed       "K007" "write-failed"         Error   "the output could not be written";
    InterpolationRequired "K010" "required-variable" Error  "a `${VAR:?message}` variable is not set";
    InterpolationSyntax "K011" "interpolation-syntax" Error "a `${...}` expression is malformed";
    UnsetVariable     "K012" "unset-variable"       Warning "a variable without a default is not set";
    DotenvSyntax      "K013" "env-file-syntax"      Error   "a `.env` or `env_file` line is malformed";
    OutsideProject    "K014" "outside-project"      Warning "a file outside the project directory is read";
    FilesLeftOut      "K015" "files-left-out"       Warning "project files are left out of a ConfigMap";
    ExpansionLimit    "K016" "expansion-limit"      Error   "variables expand to a value larger than kompile allows";
    ExtendsDepth      "K017" "extends-depth"        Error   "an `extends` chain is longer than kompile follows";
    ExtendsCycle      "K020" "extends-cycle"        Error   "services extend each other in a cycle";
    ExtendsUnknown    "K021" "extends-unknown"      Error   "`extends` names a service that does not exist";
    IncludeFailed     "K022" "include-failed"       Error   "an `include` entry could not be loaded";
    UnknownProfile    "K023" "unknown-profile"      Warning "an active profile is used by no service";
    MultipleComposeFiles "K024" "multiple-compose-files" Warning "a directory has more than one compose file name; the first is used";
    WrongType         "K100" "wrong-type"           Error   "a value has the wrong type";
    UnknownKey        "K101" "unknown-key"          Warning "a key is not part of the Compose specification";
    InvalidPort       "K102" "invalid-port"         Error   "a port or port range is invalid";
    InvalidDuration   "K103" "invalid-duration"     Error   "a duration is invalid";
    InvalidSize       "K104" "invalid-size"         Error   "a memory or byte size is invalid";
    InvalidCpus       "K105" "invalid-cpus"         Error   "a CPU value is invalid";
    UndefinedReference "K106" "undefined-reference" Error   "a service, volume, secret, config or network is not defined";
    MissingImage      "K107" "missing-image"        Error   "a service has neither `image` nor `build`";
    MissingFile       "K108" "missing-file"         Error   "a referenced file does not exist";
    DependencyCycle   "K109" "dependency-cycle"     Error   "`depends_on` forms a cycle";
    InvalidValue      "K110" "invalid-value"        Error   "a value is not one of those allowed";
    NoServices        "K111" "no-services"          Warning "the project defines no services";
    DisabledDependency "K112" "disabled-dependency" Error   "a service depends on a service its profiles disabled";
    HostPortConflict  "K113" "host-port-conflict"   Warning "two services publish the same host port";
    DuplicatePort     "K114" "duplicate-port"       Warning "a service lists the same container port twice";
    UnpinnedImage     "K115" "unpinned-image"       Warning "an image has no tag or uses `latest`";
    MissingHealthcheck "K116" "missing-healthcheck" Warning "a service with ports has no healthcheck";
    SecretInEnvironment "K117" "secret-in-environment" Warning "a secret is written as a literal environment value";
    UnreachableService "K118" "unreachable-service" Warning "a service others use declares no ports, so it gets no Kubernetes Service";
    UnknownSetting    "K119" "unknown-setting"      Error   "an `x-kompile` key is not a kompile setting";
    UnsupportedKey    "K200" "unsupported-key"      Warning "a compose key has no Kubernetes translation";
    NameChanged       "K201" "name-changed"         Warning "a name was changed to be valid in Kubernetes";
    NameCollision     "K202" "name-collision"       Error   "two names become the same Kubernetes name";
    RolloutDowntime   "K203" "rollout-downtime"     Warning "the update settings can take the service to zero ready pods";
    HostPath          "K204" "host-path"            Warning "a bind mount of a path outside the project";
    BuildNeedsImage   "K205" "build-needs-image"    Error   "a service that is built has no image name and no registry to name it in";
    RestartPolicy     "K206" "restart-policy"       Warning "a restart policy the service's kind of workload cannot honour";
    NamedUser         "K207" "named-user"           Warning "a user name Kubernetes cannot verify";
    ProjectFiles      "K208" "project-files"        Warning "project files are shipped as a ConfigMap";
    SharedVolume      "K209" "shared-volume"        Warning "a ReadWriteOnce volume is used by several pods";
    RequestAboveLimit "K210" "request-above-limit"  Warning "a resource reservation is larger than its limit";
    UnknownCommand    "K211" "unknown-command"      Warning "the command Compose would run cannot be known";
    InvalidLabelKey   "K212" "invalid-label-key"    Warning "a label key is not a valid Kubernetes annotation key";
    InvalidEnvName    "K213" "invalid-env-name"     Warning "an environment variable name Kubernetes refuses";
    LearnedPort       "K214" "learned-port"         Note    "a service that declares no port gets the ports others address it on";
    AliasTaken        "K215" "alias-taken"          Warning "an extra name of a service is another service's name or alias";
    InvalidAlias      "K216" "invalid-alias"        Warning "an extra name of a service cannot name a Kubernetes Service";
    PublishedPort     "K218" "published-port"       Note    "a published port is reached on the cluster other than as in Compose";
    IngressConflict   "K219" "ingress-conflict"     Error   "two services route the same Ingress host and path";
    IngressPort       "K220" "ingress-port"         Error   "an Ingress has no port of its service to route to";
    KomposeLabel      "K221" "kompose-label"        Note    "a Kompose label is read as the matching `x-kompile` setting";
    KomposeUntranslated "K222" "kompose-untranslated" Warning "a Kompose label kompile does not translate yet";
    InternalNetwork   "K223" "internal-network"     Note    "pods only on internal networks reach only their networks' pods and DNS";
    HostNetwork       "K224" "host-network"         Note    "a service on the host's network runs on the pod network";
    ExternalNetwork   "K225" "external-network"     Note    "pods outside the project reach an external network's services only with its label";
    InvalidHostname   "K226" "invalid-hostname"     Warning "a hostname or domainname is not a DNS label Kubernetes accepts";
    InvalidDns        "K227" "invalid-dns"          Warning "a dns server, search domain or option Kubernetes refuses";
    DnsHidesServices  "K228" "dns-hides-services"   Warning "a service with its own `dns` servers connects to services those servers cannot name";
    DockerDns         "K229" "docker-dns"           Warning "a project file asks Docker's embedded DNS server, which the cluster does not have";
    TraefikLabels     "K230" "traefik-labels"       Warning "`traefik.*` labels configure Traefik's Docker provider, which the cluster does not run";
    HookNotTranslated "K245" "hook-not-translated"  Warning "a lifecycle hook's `user` or `privileged` cannot be applied in Kubernetes";
    StopSignal        "K246" "stop-signal"          Warning "`stop_signal` cannot be set for the target Kubernetes version";
    UnsafeSysctl      "K247" "unsafe-sysctl"        Warning "a sysctl the kubelet refuses unless it is allow-listed";
    DeviceNotTranslated "K248" "device-not-translated" Warning "a device request has no Kubernetes translation, or only an approximate one";
    PlacementNotTranslated "K249" "placement-not-translated" Warning "a `deploy.placement` rule has no Kubernetes translation, or only an approximate one";
    AutoscaleWithoutRequests "K250" "autoscale-without-requests" Warning "an autoscaler targets utilization of a resource the service does not request";
    AvailabilityNotApplicable "K251" "availability-not-applicable" Warning "`x-kompile.autoscale` or `disruption` on a workload that cannot have it";
    DisruptionBlocksEviction "K252" "disruption-blocks-eviction" Warning "a disruption budget that never lets a pod be evicted";
    HookNeedsShell    "K253" "hook-needs-shell"     Note    "lifecycle hooks run through `/bin/sh` in the container";
    SharedPod         "K255" "shared-pod"           Note    "a service runs as a container in another service's pod";
    PodConflict       "K256" "pod-conflict"         Error   "services put in one pod cannot share it";
    SidecarSetting    "K257" "sidecar-setting"      Warning "a sidecar's setting belongs to the pod, which takes it from the pod's service";
    VolumesFromUnshared "K258" "volumes-from-unshared" Warning "`volumes_from` cannot share a volume's data in the cluster";
    ImageHoldsMount   "K260" "image-holds-mount"    Note    "a bind mount of the build context is dropped: the image already holds those files";
    VolumeSeeded      "K261" "volume-seeded"        Note    "a volume starts with the image's files, copied in by an init container";
    SeedUnknown       "K262" "seed-unknown"         Note    "an image may have files where a volume is mounted, and the volume starts empty";
    SeedWithoutShell  "K263" "seed-without-shell"   Warning "the image has files where a volume is mounted, but no shell to copy them in";
    ClaimGroup        "K264" "claim-group"          Note    "a pod's claims are given to the group its container runs as (`fsGroup`)";
    FileTooLarge      "K265" "file-too-large"       Error   "a project file is larger than a ConfigMap can hold";
    MountSkipped      "K266" "mount-skipped"        Note    "a mount is left out, as `x-kompile.skip_mounts` asks";
    SkipMatchesNothing "K267" "skip-matches-nothing" Warning "`x-kompile.skip_mounts` names a path the service mounts nothing at";
    ContextScratch    "K268" "context-scratch"      Warning "a writable bind mount of the build context becomes scratch space seeded from the image";
    ImageLacksFiles   "K269" "image-lacks-files"    Warning "the image lacks files a dropped bind mount of the build context showed";
    MountPropagation  "K270" "mount-propagation"    Warning "a bind mount's propagation cannot be applied as written";
    DataSubdirectory  "K271" "data-subdirectory"    Note    "a claim at a database's data directory is mounted through a sub-directory";
    VolumeDriver      "K272" "volume-driver"        Warning "a volume driver or its options have no Kubernetes translation, or only an approximate one";
    MountOption       "K273" "mount-option"         Warning "a mount option Kubernetes cannot apply is dropped";
    OptionalDependency "K240" "optional-dependency" Note    "a `required: false` dependency does not hold the service back";
    DependencyRestart "K241" "dependency-restart"   Note    "`depends_on` `restart: true`: Kubernetes does not restart dependents";
    DependencyNotWaited "K242" "dependency-not-waited" Warning "the pods cannot wait for a dependency; only `kompile apply` orders them";
    DependencyApiWait "K243" "dependency-api-wait"  Note    "a dependency is waited for through the Kubernetes API, with a ServiceAccount";
    StatefulSetClaim  "K231" "statefulset-claim"    Note    "a volume becomes a StatefulSet's own claims, under new names";
    SharedClaim       "K232" "shared-claim"         Note    "a service stays a Deployment: its ReadWriteOnce volume is shared, by other services or its replicas";
    IgnoredSetting    "K233" "ignored-setting"      Warning "a setting has no effect on the kind of workload the service runs as";
    RestartWithPorts  "K234" "restart-with-ports"   Note    "a service whose restart policy lets it end declares ports: it runs as a Deployment, not a Job";
    DockerfileSyntax  "K300" "dockerfile-syntax"    Error   "a Dockerfile is malformed";
    EmptyContinuation "K301" "empty-continuation"   Warning "a Dockerfile continuation has an empty line";
    InvalidJsonArgs   "K302" "invalid-json-args"    Warning "a JSON-looking argument list is not valid JSON";
    MaintainerDeprecated "K303" "maintainer-deprecated" Warning "the deprecated MAINTAINER instruction";
    MissingDockerfile "K304" "missing-dockerfile"   Warning "a service builds from a Dockerfile that does not exist";
    RelativeWorkdir   "K305" "relative-workdir"     Warning "a WORKDIR is relative with no absolute one before it";
    RootUser          "K306" "root-user"            Warning "the image that is built runs as root";
    Sudo              "K307" "sudo"                 Warning "a RUN command uses `sudo`";
    UnpinnedBaseImage "K308" "unpinned-base-image"  Warning "a FROM image has no tag or uses `latest`";
    UnpinnedPackage   "K309" "unpinned-package"     Warning "an apt, apk or pip package is installed without a version";
    InvalidExpose     "K310" "invalid-expose"       Error   "an EXPOSE port is out of range or malformed";
    ExposeFormat      "K311" "expose-format"        Warning "an EXPOSE entry has an address, a host port or an uppercase protocol";
    RepeatedInstruction "K312" "repeated-instruction" Warning "a stage has more than one CMD, ENTRYPOINT or HEALTHCHECK";
    AddInsteadOfCopy  "K313" "add-instead-of-copy"  Warning "ADD copies plain local files, which COPY does";
    CopyToNonDirectory "K314" "copy-to-non-directory" Error "COPY or ADD of several sources to a destination without `/`";
    CopyFromUnknownStage "K315" "copy-from-unknown-stage" Error "`COPY --from` names no stage it can use";
    CopyFromLaterStage "K316" "copy-from-later-stage" Warning "`COPY --from` names a stage defined further down";
    StageName         "K317" "stage-name"           Warning "a stage name is used twice, reserved, or not lowercase";
    ShellFormCommand  "K318" "shell-form-command"   Warning "CMD or ENTRYPOINT in shell form does not receive stop signals";
    EnvSelfReference  "K319" "env-self-reference"   Warning "an ENV uses a variable that the same ENV sets";
    RelativeCopyDestination "K320" "relative-copy-destination" Warning "COPY to a relative path with no WORKDIR set";
    ImageWithoutHealthcheck "K321" "image-without-healthcheck" Warning "a built image that serves ports has no HEALTHCHECK";
    SecretInBuild     "K322" "secret-in-build"      Warning "an ARG or ENV name looks like a secret";
    PipeWithoutPipefail "K323" "pipe-without-pipefail" Warning "a RUN pipes commands without `pipefail`";
    UndefinedVariable "K324" "undefined-variable"   Warning "a Dockerfile variable is used where it is not defined";
    LegacyKeyValue    "K325" "legacy-key-value"     Warning "ENV or LABEL in the legacy `key value` form";
    UnknownBuildTarget "K326" "unknown-build-target" Error  "compose `build.target` names no stage of the Dockerfile";
    UndeclaredBuildArg "K327" "undeclared-build-arg" Warning "compose passes a build arg the Dockerfile does not declare";
    MissingBuildArg   "K328" "missing-build-arg"    Warning "an ARG without default that compose never passes";
    PortNotExposed    "K329" "port-not-exposed"     Warning "a compose port the image does not EXPOSE";
    UserOverridesImage "K330" "user-overrides-image" Warning "compose `user` runs as root an image built to run as another user";
    NoKubeconfig      "K400" "no-kubeconfig"        Error   "no kubeconfig was found, or it cannot be read";
    UnknownContext    "K401" "unknown-context"      Error   "the kubeconfig has no such context, cluster or user";
    ClusterUnreachable "K402" "cluster-unreachable" Error   "the cluster's API server cannot be reached";
    Unauthorized      "K403" "unauthorized"         Error   "the cluster did not accept the credentials (401)";
    Forbidden         "K404" "forbidden"            Error   "the user may not do this (403)";
    TokenExpired      "K405" "token-expired"        Error   "the kubeconfig's bearer token has expired";
    FieldConflict     "K406" "field-conflict"       Error   "another field manager owns fields kompile applies (409)";
    ObjectRejected    "K407" "object-rejected"      Error   "the cluster rejected an object as invalid (400, 422)";
    ServerUnavailable "K408" "server-unavailable"   Error   "the cluster kept answering 429 or 5xx, or timing out";
    RequestFailed     "K409" "request-failed"       Error   "a request to the cluster failed";
    RolloutFailed     "K410" "rollout-failed"       Error   "a workload did not become ready";
    PruneSkipped      "K411" "prune-skipped"        Warning "nothing was pruned, or some objects were kept";
    ExternalDiff      "K412" "external-diff"        Error   "the external diff program could not be run";
    NotOwned          "K413" "not-owned"            Error   "an object exists that another project or tool created";
    BadResponse       "K414" "bad-response"         Error   "the cluster answered a write with something that is not the object";
    NoCredentials     "K415" "no-credentials"       Error   "the user's credentials could not be obtained (exec plugin, token file)";
    JobRunning        "K416" "job-running"          Error   "a running Job's template changed, which Kubernetes does not allow";
    JobReplaced       "K417" "job-replaced"         Note    "a finished Job whose template changed was deleted and created again";
    DependencyFailed  "K418" "dependency-failed"    Error   "workloads were not applied because what they depend on failed";
    NotApplied        "K419" "not-applied"          Error   "the project was never applied to this namespace (it has no ApplySet parent there)";
    NotConfirmed      "K420" "not-confirmed"        Error   "`down` was not confirmed, so nothing was deleted";
    NotDeleted        "K421" "not-deleted"          Error   "a deleted object was still there when the wait ended";
}

/// Hadolint rules kompile implements, by hadolint id, so `# hadolint ignore=DL3008` works
/// and hadolint ids name codes wherever codes are read ([`Code::matching`]). One rule may be
/// several codes (DL3022), and one code several rules.
pub const HADOLINT: &[(&str, Code)] = &[
    ("DL3000", Code::RelativeWorkdir),
    ("DL3002", Code::RootUser),
    ("DL3004", Code::Sudo),
    ("DL3006", Code::UnpinnedBaseImage),
    ("DL3007", Code::UnpinnedBaseImage),
    ("DL3008", Code::UnpinnedPackage),
    ("DL3011", Code::InvalidExpose),
    ("DL3012", Code::RepeatedInstruction),
    ("DL3013", Code::UnpinnedPackage),
    ("DL3018", Code::UnpinnedPackage),
    ("DL3020", Code::AddInsteadOfCopy),
    ("DL3021", Code::CopyToNonDirectory),
    ("DL3022", Code::CopyFromUnknownStage),
    ("DL3022", Code::CopyFromLaterStage),
    ("DL3023", Code::CopyFromUnknownStage),
    ("DL3024", Code::StageName),
    ("DL3025", Code::ShellFormCommand),
    ("DL3044", Code::EnvSelfReference),
    ("DL3045", Code::RelativeCopyDestination),
    ("DL3057", Code::ImageWithoutHealthcheck),
    ("DL3063", Code::StageName),
    ("DL3064", Code::SecretInBuild),
    ("DL4000", Code::MaintainerDeprecated),
    ("DL4003", Code::RepeatedInstruction),
    ("DL4004", Code::RepeatedInstruction),
    ("DL4006", Code::PipeWithoutPipefail),
];

impl Code {
    /// The one reader of a code written as text: its id in any case (`K101`, `k101`) or its
    /// name in any case, with `_` allowed for `-` (`unknown-key`, `Unknown_Key`); around
    /// spaces ignored.
    pub fn lookup(text: &str) -> Option<Code> {
        let text = text.trim().replace('_', "-");
        Code::ALL.iter().copied().find(|c| c.id().eq_ignore_ascii_case(&text) || c.name().eq_ignore_ascii_case(&text))
    }

    /// The codes `text` names: the one [`Code::lookup`] finds, else those implementing the
    /// hadolint rule it names (`DL3008`, any case; see [`HADOLINT`]). Empty when it names none.
    pub fn matching(text: &str) -> Vec<Code> {
        if let Some(code) = Code::lookup(text) {
            return vec![code];
        }
        let text = text.trim();
        HADOLINT.iter().filter(|(rule, _)| rule.eq_ignore_ascii_case(text)).map(|(_, code)| *code).collect()
    }
}

/// What a Dockerfile's hadolint settings silence: its configuration file's `ignored:` list
/// and `# hadolint global ignore=` comments, and whether `# hadolint ignore=` comments count
/// (not with `disable-ignore-pragma`). Read once, when the Dockerfile is loaded.
#[derive(Debug, Clone)]
pub struct Silences {
    pub ignored: Vec<Silence>,
    pub pragmas: bool,
}

impl Default for Silences {
    fn default() -> Silences {
        Silences { ignored: Vec::new(), pragmas: true }
    }
}

/// What one item of an ignore list (`# hadolint ignore=`, `.hadolint.yaml`'s `ignored:`,
/// `# kompile-ignore=`) silences: a code, and, when the item is a hadolint rule, only that
/// rule's part of the code ([`crate::diag::Diagnostic::rule`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Silence {
    pub code: Code,
    pub rule: Option<&'static str>,
}

impl Silence {
    /// The silences `text` names: as [`Code::matching`], each hadolint rule keeping its id.
    pub fn named(text: &str) -> Vec<Silence> {
        if let Some(code) = Code::lookup(text) {
            return vec![Silence { code, rule: None }];
        }
        let text = text.trim();
        HADOLINT
            .iter()
            .filter(|(rule, _)| rule.eq_ignore_ascii_case(text))
            .map(|(rule, code)| Silence { code: *code, rule: Some(rule) })
            .collect()
    }

    /// Whether this silences `diagnostic`: its code, and its rule when both name one.
    pub fn covers(&self, diagnostic: &crate::diag::Diagnostic) -> bool {
        self.code == diagnostic.code
            && match (self.rule, diagnostic.rule) {
                (Some(ours), Some(theirs)) => crate::diag::rule_number(ours) == Some(theirs),
                _ => true,
            }
    }
}

impl std::str::FromStr for Code {
    type Err = ();

    /// [`Code::lookup`]: the id or the name, in any case.
    fn from_str(s: &str) -> Result<Code, ()> {
        Code::lookup(s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_by_id_name_or_hadolint_rule() {
        for text in ["K101", "k101", " unknown-key ", "Unknown-Key", "unknown_key"] {
            assert_eq!(Code::lookup(text), Some(Code::UnknownKey), "{text}");
        }
        assert_eq!(Code::lookup("K999"), None);
        assert_eq!(Code::lookup("DL3008"), None);
        assert_eq!(Code::matching("dl3008"), [Code::UnpinnedPackage]);
        assert_eq!(Code::matching("DL3022"), [Code::CopyFromUnknownStage, Code::CopyFromLaterStage]);
        assert_eq!(Code::matching("K303"), [Code::MaintainerDeprecated]);
        assert!(Code::matching("DL9999").is_empty());
    }
}
