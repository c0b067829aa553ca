//! Talking to a live cluster: `kompile apply`, `diff`, `status` and `down`.
//!
//! The pure decisions live in [`plan`] (order, ApplySet, prune, summary), [`diff`]
//! (rendering), [`normalize`] (what of a live object is compared), [`wait`] (rollout status)
//! and [`errors`] (failure → diagnostic); the rest sends requests through
//! [`client::Cluster::call`].
//!
//! The files import each other without a circle (checked by `src/layers.rs`): [`target`] and
//! [`normalize`] need nothing here, [`plan`] needs normalize, [`owner`] plan, [`errors`]
//! target and plan, [`client`] errors and plan, the request helpers in this file client, and
//! [`applyset`], [`apply`], [`diff`], [`wait`] and [`kubeconfig`] build on those; [`status`]
//! and [`down`] (the day-2 commands) on applyset, wait and apply's prune.

pub mod apply;
pub mod applyset;
pub mod client;
pub mod diff;
pub mod down;
pub mod errors;
pub mod kubeconfig;
pub mod normalize;
pub mod owner;
pub mod plan;
pub mod restart;
pub mod status;
pub mod target;
pub mod wait;

use kube::api::{DeleteParams, ListParams, Patch, PatchParams, Preconditions};
use serde_json::Value;

use client::{Cluster, Found};
use errors::{Failure, Subject};
use plan::Manifest;

/// How objects are sent.
#[derive(Debug, Clone)]
pub struct Settings {
    pub field_manager: String,
    pub force_conflicts: bool,
    /// Take over objects of other projects and tools instead of refusing them (`--adopt`).
    pub adopt: bool,
    /// `dryRun=All` on every write.
    pub dry_run: bool,
    /// Requests in flight at once within one step.
    pub concurrency: usize,
}

/// A manifest whose resource the server does not serve.
pub fn not_served(manifest: &Manifest) -> Failure {
    Failure::Other(format!(
        "the cluster does not serve {} in API version {}",
        manifest.kind,
        if manifest.group.is_empty() {
            manifest.version.clone()
        } else {
            format!("{}/{}", manifest.group, manifest.version)
        }
    ))
}

/// What a failed request on `manifest` was about.
pub fn subject(verb: &'static str, manifest: &Manifest) -> Subject {
    Subject {
        verb,
        kind: manifest.kind.clone(),
        namespace: manifest.namespace.clone(),
        name: manifest.name.clone(),
        service: manifest.service.clone(),
        origin: Some(manifest.origin.clone()),
    }
}

/// The live object, or `None` when it does not exist.
pub async fn get(cluster: &Cluster, found: &Found, manifest: &Manifest) -> Result<Option<Value>, Failure> {
    get_named(cluster, found, manifest.namespace.as_deref(), &manifest.name).await
}

pub async fn get_named(
    cluster: &Cluster,
    found: &Found,
    namespace: Option<&str>,
    name: &str,
) -> Result<Option<Value>, Failure> {
    let request = Cluster::collection(found, namespace)
        .get(name, &Default::default())
        .map_err(|e| Failure::Other(e.to_string()))?;
    match cluster.call(request).await {
        Ok(reply) => Ok(Some(reply.body)),
        Err(failure) if failure.is_not_found() => Ok(None),
        Err(failure) => Err(failure),
    }
}

/// Server-side apply of `manifest`; returns the HTTP status (201 created, 200 otherwise) and
/// the object the server made of it.
pub async fn apply_one(
    cluster: &Cluster,
    found: &Found,
    manifest: &Manifest,
    settings: &Settings,
    force: bool,
) -> Result<(u16, Value), Failure> {
    let mut params = PatchParams::apply(&settings.field_manager);
    if force || settings.force_conflicts {
        params = params.force();
    }
    if settings.dry_run {
        params = params.dry_run();
    }
    let request = Cluster::collection(found, manifest.namespace.as_deref())
        .patch(&manifest.name, &params, &Patch::Apply(&manifest.body))
        .map_err(|e| Failure::Other(e.to_string()))?;
    let reply = cluster.call(request).await?;
    // Something that answers 200 without being the API server (a proxy's page, a wrong URL)
    // must not count as applied.
    if let Some(answer) = plan::not_the_object(manifest, &reply.body) {
        return Err(Failure::BadResponse(format!("the answer to applying it was {answer}")));
    }
    Ok((reply.status, reply.body))
}

/// Objects of one resource in one namespace carrying `selector`.
pub async fn list(
    cluster: &Cluster,
    found: &Found,
    namespace: Option<&str>,
    selector: &str,
) -> Result<Vec<Value>, Failure> {
    let request = Cluster::collection(found, namespace)
        .list(&ListParams::default().labels(selector))
        .map_err(|e| Failure::Other(e.to_string()))?;
    let reply = cluster.call(request).await?;
    Ok(reply.body["items"].as_array().cloned().unwrap_or_default())
}

/// What a delete is about: the object, and the uid and resourceVersion it must still have.
pub struct Doomed<'a> {
    pub kind: &'a str,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
    /// `(uid, resourceVersion)` of the object as last read: the server refuses the delete (409)
    /// when the object was replaced or changed since.
    pub precondition: Option<(String, String)>,
}

/// Deletes one object in the background (its dependents go with it, as kubectl does); an
/// object already gone counts as deleted.
pub async fn delete(cluster: &Cluster, found: &Found, doomed: &Doomed<'_>, dry_run: bool) -> Result<(), Failure> {
    let mut params = DeleteParams::background();
    if dry_run {
        params = params.dry_run();
    }
    if let Some((uid, resource_version)) = &doomed.precondition {
        params.preconditions =
            Some(Preconditions { uid: Some(uid.clone()), resource_version: Some(resource_version.clone()) });
    }
    let request = Cluster::collection(found, doomed.namespace)
        .delete(doomed.name, &params)
        .map_err(|e| Failure::Other(e.to_string()))?;
    match cluster.call(request).await {
        Ok(reply) => match plan::not_deleted(doomed.kind, doomed.name, &reply.body) {
            Some(answer) => Err(Failure::BadResponse(format!("the answer to deleting it was {answer}"))),
            None => Ok(()),
        },
        Err(failure) if failure.is_not_found() => Ok(()),
        Err(failure) => Err(failure),
    }
}
