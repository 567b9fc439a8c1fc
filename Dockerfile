# syntax=docker/dockerfile:1
# sc-assoc as a container image: `docker run --rm -v "$PWD/manifests:/manifests:ro" IMAGE plan /manifests`.
#
#   docker build --build-arg SC_ASSOC_COMMIT="$(git rev-parse --short HEAD)" -t sc-assoc .
#
# Stage 1 compiles the release binary exactly as `cargo build --release --locked` does on a
# workstation; stage 2 is distroless/cc: glibc, libgcc, CA certificates and nothing else (no
# shell, no package manager), running as an unprivileged user. Both stages are Debian 12, so the
# binary finds the glibc it was linked against.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# The build context has no .git (.dockerignore), so the commit `--version` names comes in here;
# without the argument it reads "unknown".
ARG SC_ASSOC_COMMIT=unknown
ENV SC_ASSOC_COMMIT=${SC_ASSOC_COMMIT}
# Only what the binary is built from: the manifest, the lock file, the build script, the sources,
# and examples/ (the demo embeds examples/demo-catalog.yaml and examples/manifests/demo.yaml).
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY examples ./examples
# The registry cache survives between builds on the same machine; target/ is in the layer, so
# the COPY below can take the binary from it.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    cargo build --release --locked

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/sc-assoc /usr/local/bin/sc-assoc
# Credentials come from the SDK's default chain, as outside a container:
#  - environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_REGION;
#  - web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (EKS IRSA, CI OIDC tokens);
#  - ECS task roles and EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_* (set by the platform);
#  - IMDS on EC2 (a container on a bridge network needs the instance's metadata hop limit >= 2);
#  - profiles and SSO: mount ~/.aws at /home/nonroot/.aws (read-only is enough for profiles;
#    SSO needs the token cache written by `aws sso login` on the host).
# `credential_process` runs its command through /bin/sh, which this image does not have.
# TLS to AWS endpoints verifies against the system roots, /etc/ssl/certs in this image.
ENTRYPOINT ["/usr/local/bin/sc-assoc"]
CMD ["--help"]
