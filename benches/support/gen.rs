//! Writes a large, valid compose project: `n` services with ports, environment, healthchecks,
//! resources, labels, and every tenth service a named volume and a secret. Deterministic; the
//! same shape as `gen-compose.py` so figures are comparable. Used by `benches/build.rs` and
//! `examples/gen-compose.rs`; no dependencies beyond `std`.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// The text of `compose.yaml` for `n` services.
pub fn compose_yaml(n: usize) -> String {
    let mut out = String::with_capacity(n * 900 + 64);
    out.push_str("name: big\nservices:\n");
    for i in 0..n {
        service(&mut out, i, n);
    }
    out.push_str("volumes:\n");
    for i in (0..n).step_by(10) {
        let _ = writeln!(out, "  data{i:05}: {{}}");
    }
    out.push_str("secrets:\n  api_key:\n    file: ./api_key.txt\n");
    out
}

fn service(out: &mut String, i: usize, n: usize) {
    let name = format!("svc{i:05}");
    let _ = write!(out, "  {name}:\n    image: registry.example.test/team/{name}:1.{}.{}\n", i % 7, i % 13);
    let _ = writeln!(out, "    command: [\"/app/bin/server\", \"--port\", \"8080\", \"--name\", \"{name}\"]");
    out.push_str("    environment:\n");
    for k in 0..12 {
        let _ = writeln!(out, "      VAR_{k:02}: \"value-{k}-{}\"", (i * 7919 + k) % 100_003);
    }
    let _ = writeln!(out, "      PEER: http://svc{:05}:8080", (i + 1) % n);
    out.push_str("      LOG_LEVEL: ${LOG_LEVEL:-info}\n");
    let _ = writeln!(out, "    ports:\n      - \"{}:8080\"", 10_000 + i % 50_000);
    out.push_str(concat!(
        "    expose: [\"9090\"]\n",
        "    healthcheck:\n",
        "      test: [\"CMD\", \"/app/bin/health\"]\n",
        "      interval: 10s\n",
        "      timeout: 2s\n",
        "      retries: 3\n",
        "    deploy:\n",
    ));
    let _ = writeln!(out, "      replicas: {}", 1 + i % 3);
    out.push_str(concat!(
        "      update_config: {parallelism: 1, order: start-first}\n",
        "      resources:\n",
        "        limits: {cpus: \"0.5\", memory: 256M}\n",
        "        reservations: {memory: 128M}\n",
        "    labels:\n",
    ));
    let _ = writeln!(out, "      com.example.team: team-{}", i % 10);
    if i.is_multiple_of(10) {
        let _ = writeln!(out, "    volumes:\n      - data{i:05}:/var/lib/data");
        out.push_str("    secrets:\n      - api_key\n");
    }
}

/// Writes `compose.yaml` and the secret file `api_key.txt` into `dir`, creating it.
pub fn write_project(n: usize, dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("compose.yaml"), compose_yaml(n))?;
    std::fs::write(dir.join("api_key.txt"), "not-a-real-key\n")
}

/// A realistic multi-stage Dockerfile, about 30 lines, for projects whose services build.
pub const DOCKERFILE: &str = r#"# syntax=docker/dockerfile:1
ARG PYTHON=3.12
FROM python:${PYTHON}-slim AS build
WORKDIR /src
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --prefix=/install -r requirements.txt
COPY . .
RUN <<BUILD
set -eu
python -m compileall -q /src
BUILD

FROM python:${PYTHON}-slim AS runtime
ENV PYTHONUNBUFFERED=1 \
    APP_HOME=/app
WORKDIR /app
COPY --from=build /install /usr/local
COPY --from=build --chown=10001:10001 /src /app
RUN groupadd --gid 10001 app \
 && useradd --uid 10001 --gid app --no-create-home app
USER 10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8080/health')"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "app"]
CMD ["--port", "8080"]
"#;

/// Like [`write_project`], but every service is built from its own directory with a
/// Dockerfile, as a team's monorepo would be.
pub fn write_built_project(n: usize, dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut text = String::new();
    for line in compose_yaml(n).lines() {
        text.push_str(line);
        text.push('\n');
        if let Some(image) = line.strip_prefix("    image: registry.example.test/team/") {
            let name = image.split(':').next().unwrap_or_default();
            text.push_str(&format!("    build: ./{name}\n"));
            let context = dir.join(name);
            std::fs::create_dir_all(&context)?;
            std::fs::write(context.join("Dockerfile"), DOCKERFILE)?;
            std::fs::write(context.join("requirements.txt"), "flask==3.0.3\n")?;
        }
    }
    std::fs::write(dir.join("compose.yaml"), text)?;
    std::fs::write(dir.join("api_key.txt"), "not-a-real-key\n")
}
