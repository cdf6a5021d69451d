# Multi-stage: build with the project's own install script, ship only the binary, its libraries
# and the default config. No architecture is written here: ldd finds the libraries on whatever platform builds.
#   buildah bud --isolation chroot -t procevents_exporter .      (or docker build -t procevents_exporter .)
#   deploy/verify-image.sh passes --build-arg REVISION=$(git rev-parse HEAD) --build-arg BRANCH=...
# Run (the connector exists only in the host network namespace, and ignores subscribers outside the
# host PID and initial user namespaces):
#   docker run --network host --pid host --cap-drop ALL --cap-add NET_ADMIN procevents_exporter
FROM debian:bookworm AS build
ARG REVISION=unknown
ARG BRANCH=unknown
WORKDIR /src
COPY . .
RUN bash scripts/install-deps.sh --build-only \
 && cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DPROCEVENTS_BUILD_TESTS=OFF \
      -DPROCEVENTS_REVISION="$REVISION" -DPROCEVENTS_BRANCH="$BRANCH" \
 && cmake --build /build -j"$(nproc)" --target procevents_exporter \
 && DESTDIR=/rootfs cmake --install /build --prefix /usr/local --component runtime --strip \
 && install -D -m 644 LICENSE /rootfs/usr/local/share/doc/procevents-exporter/LICENSE \
 # What the binary loads, and the dynamic loader itself (ldd's "=> /path" and "/path" lines).
 && ldd /rootfs/usr/local/bin/procevents_exporter | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u > /tmp/libs \
 && tar -chf - -T /tmp/libs | tar -xf - -C /rootfs

# The runtime image has no shell and no package manager: only the binary, its libraries and the config.
FROM scratch
# The one version source is CMakeLists.txt; tests/deploy/check_manifests.py keeps this default equal to it.
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="procevents_exporter" \
      org.opencontainers.image.description="Prometheus exporter for Linux process events (fork, exec, exit)" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /rootfs/ /
COPY --from=build /etc/passwd /etc/group /etc/nsswitch.conf /etc/
EXPOSE 9662
# /healthz needs no credentials, and an http:// URL is retried over TLS: this works whatever the web config.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s CMD ["/usr/local/bin/procevents_exporter", "--healthcheck=http://127.0.0.1:9662/healthz"]
ENTRYPOINT ["/usr/local/bin/procevents_exporter"]
CMD ["--config.file=/etc/procevents_exporter/procevents.yml"]
