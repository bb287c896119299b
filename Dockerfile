# The tzurot binary (bot, worker, dev, migrate...). The Temporal server is compiled in for
# `tzurot dev`; production points bot and worker at a Temporal cluster.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/tzurot ./cmd/tzurot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tzurot /usr/local/bin/tzurot
COPY store/seed /seed
ENTRYPOINT ["/usr/local/bin/tzurot"]
