# Multi-stage: build with the project's own install script, ship only the binary and its libraries.
#   buildah bud --isolation chroot -t procevents_exporter .      (or docker build -t procevents_exporter .)
# Run (the connector exists only in the host network namespace, and ignores subscribers outside the
# host PID and initial user namespaces):
#   docker run --network host --pid host --cap-drop ALL --cap-add NET_ADMIN procevents_exporter
FROM debian:bookworm AS build
WORKDIR /src
COPY . .
RUN bash scripts/install-deps.sh --build-only \
 && cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DPROCEVENTS_BUILD_TESTS=OFF \
 && cmake --build /build -j"$(nproc)" --target procevents_exporter procevents_civetweb_ssl \
 && strip /build/exporter/app/procevents_exporter \
 && mkdir -p /rootfs/usr/local/bin /rootfs/etc/procevents_exporter \
 && cp /build/exporter/app/procevents_exporter /build/exporter/app/procevents_civetweb_ssl.so /rootfs/usr/local/bin/ \
 && cp config/procevents.yml /rootfs/etc/procevents_exporter/ \
 && ldd /build/exporter/app/procevents_exporter | awk '/=> \// {print $3}' > /tmp/libs \
 && echo /lib64/ld-linux-x86-64.so.2 >> /tmp/libs \
 && echo /usr/lib/x86_64-linux-gnu/libssl.so.3 >> /tmp/libs \
 && echo /usr/lib/x86_64-linux-gnu/libcrypto.so.3 >> /tmp/libs \
 && tar -chf - $(sort -u /tmp/libs) | tar -xf - -C /rootfs \
 # civetweb dlopen()s TLS by the unversioned names.
 && ln -s libssl.so.3 /rootfs/usr/lib/x86_64-linux-gnu/libssl.so \
 && ln -s libcrypto.so.3 /rootfs/usr/lib/x86_64-linux-gnu/libcrypto.so

# The runtime image has no shell and no package manager: only the binary, its libraries and the config.
FROM scratch
COPY --from=build /rootfs/ /
COPY --from=build /etc/passwd /etc/group /etc/nsswitch.conf /etc/
EXPOSE 9662
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s CMD ["/usr/local/bin/procevents_exporter", "--healthcheck=http://127.0.0.1:9662/healthz"]
ENTRYPOINT ["/usr/local/bin/procevents_exporter"]
CMD ["--config.file=/etc/procevents_exporter/procevents.yml"]
