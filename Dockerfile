# syntax=docker/dockerfile:1
# Build a static orderdesk binary, then ship it alone on a minimal base as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/orderdesk . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/orderdesk /usr/local/bin/orderdesk
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV HTTP_ADDR=:8080 DATA_DIR=/data
USER nonroot:nonroot
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/orderdesk"]
CMD ["serve"]
