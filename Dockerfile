# syntax=docker/dockerfile:1
# kompile as a container image: one static binary on distroless, running as a non-root user.
#
#   docker build -t kompile .
#   docker run --rm -v "$PWD:/work" -w /work kompile check
#
# The builder is the official Rust image on Alpine (with gcc and musl-dev), whose host target
# is musl: `cargo build` there links a static binary (crt-static is musl's default) without a
# cross toolchain or `rustup target add`. 1.95.0 is the toolchain CI uses (rust-version 1.89).
# Releases push this image as ghcr.io/kompile-dev/kompile (docs/release.md).

FROM rust:1.95.0-alpine3.23 AS build
WORKDIR /src
# Only what the build reads (.dockerignore keeps the rest out of the context). Cargo.toml
# names the test and bench targets, so their files come too, though nothing builds them.
COPY Cargo.toml Cargo.lock ./
COPY src/ src/
COPY docs/codes/ docs/codes/
COPY benches/ benches/
COPY examples/ examples/
COPY tests/ tests/
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    CARGO_PROFILE_RELEASE_STRIP=symbols cargo build --release --locked --bin kompile \
    && cp target/release/kompile /kompile

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /kompile /kompile
# distroless's `nonroot` user, by number so that Kubernetes can verify runAsNonRoot.
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/kompile"]
CMD ["--help"]
