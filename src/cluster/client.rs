//! Every request kompile sends goes through [`Cluster::call`]: one place for retries, status
//! codes and turning failures into [`Failure`]s. Resource paths come from discovery.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use http_body_util::BodyExt;
use kube::Client;
use kube::core::{ApiResource, DynamicObject, Resource};
use kube::discovery::{self, Scope};
use serde_json::Value;

use super::errors::{Failure, Status};
use super::target::Target;

/// A resource found through discovery.
#[derive(Debug, Clone)]
pub struct Found {
    pub resource: ApiResource,
    pub namespaced: bool,
}

pub struct Cluster {
    client: Client,
    pub target: Target,
    /// Discovered resources by group-kind (`Deployment.apps`).
    found: Mutex<HashMap<String, Found>>,
    /// Groups already asked about, found or not.
    groups: Mutex<HashMap<String, Vec<(ApiResource, bool)>>>,
}

/// An answer with a 2xx status.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// Attempts for one request when the server is overloaded, failing or slow (429, 5xx,
/// no answer); the waits between them double from 200 ms.
const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// Never wait longer than this between attempts, whatever `Retry-After` asks.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

impl Cluster {
    pub fn new(client: Client, target: Target) -> Cluster {
        Cluster { client, target, found: Mutex::default(), groups: Mutex::default() }
    }

    /// Finds how the server serves `group_kind`, asking `/api` or `/apis` and the group's
    /// versions once per group; the preferred version wins.
    pub async fn discover(&self, group_kind: &str) -> Result<Option<Found>, Failure> {
        if let Some(found) = lock(&self.found).get(group_kind) {
            return Ok(Some(found.clone()));
        }
        let (group, kind) = super::plan::split_group_kind(group_kind);
        let known = lock(&self.groups).get(group).cloned();
        let resources = match known {
            Some(resources) => resources,
            None => {
                let resources = self.query_group(group).await?;
                lock(&self.groups).insert(group.to_string(), resources.clone());
                resources
            }
        };
        let found = resources
            .into_iter()
            .find(|(r, _)| r.kind == kind)
            .map(|(resource, namespaced)| Found { resource, namespaced });
        if let Some(found) = &found {
            lock(&self.found).insert(group_kind.to_string(), found.clone());
        }
        Ok(found)
    }

    async fn query_group(&self, group: &str) -> Result<Vec<(ApiResource, bool)>, Failure> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match discovery::group(&self.client, group).await {
                Ok(api_group) => {
                    let resources = api_group.recommended_resources();
                    return Ok(resources.into_iter().map(|(r, caps)| (r, caps.scope == Scope::Namespaced)).collect());
                }
                Err(kube::Error::Discovery(_)) => return Ok(Vec::new()),
                Err(error) => {
                    let failure = Failure::from_kube(error);
                    if !failure.is_transient() || attempt >= ATTEMPTS {
                        return Err(failure);
                    }
                    tokio::time::sleep(backoff(attempt, None)).await;
                }
            }
        }
    }

    /// The collection path, e.g. `/apis/apps/v1/namespaces/shop/deployments`.
    pub fn collection(found: &Found, namespace: Option<&str>) -> kube::core::Request {
        let namespace = if found.namespaced { namespace } else { None };
        kube::core::Request::new(DynamicObject::url_path(&found.resource, namespace))
    }

    /// Sends one request, retrying transient failures with backoff.
    pub async fn call(&self, request: http::Request<Vec<u8>>) -> Result<Reply, Failure> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.send_once(clone_request(&request)).await;
            match result {
                Err(failure) if failure.is_transient() && attempt < ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt, failure.retry_after())).await;
                }
                other => return other,
            }
        }
    }

    async fn send_once(&self, request: http::Request<Vec<u8>>) -> Result<Reply, Failure> {
        let response = self.client.send(request.map(kube::client::Body::from)).await.map_err(Failure::from_kube)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = match response.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) => return Err(Failure::Unreachable(format!("the answer was cut off: {error}"))),
        };
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(Reply { status, body });
        }
        let mut status = Status::from_body(status, &body, &bytes);
        status.retry_after = retry_after;
        Err(Failure::Status(status))
    }
}

/// 200 ms, 400 ms, 800 ms, …, or what the server asked for, never above [`MAX_BACKOFF`].
pub fn backoff(attempt: u32, retry_after: Option<u64>) -> Duration {
    let doubled = FIRST_BACKOFF.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
    retry_after.map(Duration::from_secs).unwrap_or(doubled).min(MAX_BACKOFF)
}

/// `http::Request` is not `Clone` (extensions may not be); ours carry none.
fn clone_request(request: &http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let mut copy = http::Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    copy
}

/// A poisoned lock only means another task panicked mid-insert into a cache; the map is
/// still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1, None), Duration::from_millis(200));
        assert_eq!(backoff(3, None), Duration::from_millis(800));
        assert_eq!(backoff(30, None), MAX_BACKOFF);
        assert_eq!(backoff(1, Some(2)), Duration::from_secs(2));
        assert_eq!(backoff(1, Some(600)), MAX_BACKOFF);
    }
}
