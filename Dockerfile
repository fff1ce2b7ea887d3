# syntax=docker/dockerfile:1
# a0bulk as a container image: a static binary (no libc, CGO off) on
# distroless "static" (CA certificates, tzdata, /etc/passwd; no shell),
# run as its non-root user 65532.
#
#   docker build -t a0bulk --build-arg VERSION=$(git describe --tags --always) .
#   docker run --rm -v a0bulk-state:/var/lib/a0bulk -e AUTH0_DOMAIN=… -e AUTH0_CLIENT_ID=… \
#     -e AUTH0_CLIENT_SECRET_FILE=/run/secrets/client-secret -v ./client-secret:/run/secrets/client-secret:ro \
#     a0bulk sync --state users.state --connection Username-Password-Authentication --input input/users.csv

ARG GO_VERSION=1.26
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X github.com/a0bulk/a0bulk/cli.Version=${VERSION}" \
      -o /out/usr/local/bin/a0bulk . \
 && mkdir -p /out/var/lib/a0bulk

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/usr/local/bin/a0bulk /usr/local/bin/a0bulk
# The state and reports directory, the user's own (a volume mounted here
# starts with that owner).
COPY --from=build --chown=65532:65532 /out/var/lib/a0bulk /var/lib/a0bulk
USER 65532:65532
WORKDIR /var/lib/a0bulk
ENTRYPOINT ["/usr/local/bin/a0bulk"]
CMD ["--help"]
