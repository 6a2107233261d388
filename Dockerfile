# Livret's single image: `docker run livret <role>` with role webapi, worker, migrate or sandbox;
# `docker run --entrypoint livret-temporal-setup livret schema|namespace` prepares Temporal.
# The binary is built with -tags nodev: it carries no embedded Temporal server (that is
# `livret dev`'s, for a developer's machine); in a deployment Temporal runs in its own
# containers (docker-compose.yml).

# Go 1.26.10: the standard-library fixes govulncheck asks for (.ci/vuln-accepted); this
# machine builds with 1.26.8, the newest it has.
FROM golang:1.26.10-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly
# The modules first: this layer is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -tags nodev -trimpath -ldflags="-s -w" -o /out/livret ./cmd/livret \
    && go build -trimpath -ldflags="-s -w" -o /out/livret-temporal-setup ./cmd/livret-temporal-setup \
    && mkdir -p /out/data

# A static busybox for the containers' health checks (wget), the final image has no shell.
FROM busybox:1.37.0-musl AS busybox

# distroless/static: CA certificates, /etc/passwd with the nonroot user (65532), nothing
# else. The time zone database is compiled into the binary (domain/paris.go).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=busybox /bin/busybox /usr/local/bin/busybox
COPY --from=build /out/livret /usr/local/bin/livret
# Compose's temporal-schema and temporal-setup run it (it links the Temporal server's SQL
# tools, so it is a program of its own: livret itself carries none of the server).
COPY --from=build /out/livret-temporal-setup /usr/local/bin/livret-temporal-setup
# The sandbox's state file lives here (a volume in docker-compose.yml).
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
EXPOSE 8080 8090 9090
ENTRYPOINT ["/usr/local/bin/livret"]
CMD ["webapi"]
