# The standalone ReviewOrleans gateway: an Orleans client of the cluster serving the gRPC API (h2c) and /healthz.
# Build from the repository root:
#
#   docker build -f deploy/docker/gateway.Dockerfile -t revieworleans-gateway:local .
#
# Configuration comes from the environment (docs/deployment.md). The image sets none of it.

# The SDK runs on the build machine's own platform and publishes for the image's (docker buildx --platform):
# -a picks that architecture's native libraries (ONNX Runtime, SQLite) instead of every platform's.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# Set by BuildKit (the default builder); amd64 where the legacy builder leaves it empty.
ARG TARGETARCH
WORKDIR /src
# The whole context (see .dockerignore): the projects share the props files at the root.
COPY . .
RUN dotnet publish src/Gateway -c Release -a "${TARGETARCH:-amd64}" -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app .
# The gateway chooses its own ports (Gateway__GrpcPort, Gateway__HttpPort); see silo.Dockerfile.
ENV ASPNETCORE_HTTP_PORTS=
# The non-root user the .NET images ship (app, uid 1654).
USER $APP_UID
# 5181 gRPC (h2c), 5182 HTTP: /healthz (ok while the cluster answers with an active silo).
EXPOSE 5181 5182
# The image has no curl: bash asks /healthz itself, on loopback (Gateway__BindAddress 0.0.0.0 or 127.0.0.1), at
# Gateway__HttpPort when that is set.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${Gateway__HttpPort:-5182} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -qx ok <&3"]
ENTRYPOINT ["dotnet", "ReviewOrleans.Gateway.dll"]
