# The ReviewOrleans silo, with reviewctl beside it for the schema job (`reviewctl db init`), so that one image serves
# both. Build from the repository root:
#
#   docker build -f deploy/docker/silo.Dockerfile -t revieworleans-silo:local .
#
# Configuration comes from the environment (docs/deployment.md): REVIEWORLEANS_PROFILE=cluster,
# REVIEWORLEANS_POSTGRES, Cluster__*, Gateway__*. The image sets none of them, so that an unconfigured container
# keeps the process's own defaults (HTTP on loopback only).

# The SDK runs on the build machine's own platform and publishes for the image's (docker buildx --platform):
# -a picks that architecture's native libraries (ONNX Runtime, SQLite) instead of every platform's.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# Set by BuildKit (the default builder); amd64 where the legacy builder leaves it empty.
ARG TARGETARCH
WORKDIR /src
# The whole context (see .dockerignore): the projects share Directory.Build.props, Directory.Packages.props and
# HostRuntime.props at the root, the silo copies models/ into its output, and the database project embeds
# db/postgresql/*.sql.
COPY . .
RUN dotnet publish src/Silo -c Release -a "${TARGETARCH:-amd64}" -o /app \
 && dotnet publish tools/ReviewCtl -c Release -a "${TARGETARCH:-amd64}" -o /app/reviewctl

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
# Owned by root and only read by the process: in the cluster profile the silo writes nothing to disk.
COPY --from=build /app .
# The image's base sets ASPNETCORE_HTTP_PORTS=8080; the silo chooses its own ports (Gateway__GrpcPort,
# Gateway__HttpPort), and Kestrel would log that it overrides the 8080 default.
ENV ASPNETCORE_HTTP_PORTS=
# The non-root user the .NET images ship (app, uid 1654); numeric, so that Kubernetes can check runAsNonRoot.
USER $APP_UID
# 11111 silo to silo, 30000 Orleans gateway (standalone gateways connect here), 5181 gRPC (h2c; only when the silo
# co-hosts the gateway), 5182 HTTP: /healthz and /dashboard.
EXPOSE 11111 30000 5181 5182
# The image has no curl: bash asks /healthz itself, on loopback (Gateway__BindAddress 0.0.0.0 or 127.0.0.1), at
# Gateway__HttpPort when that is set.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${Gateway__HttpPort:-5182} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -qx ok <&3"]
ENTRYPOINT ["dotnet", "ReviewOrleans.Silo.dll"]
