using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using ReviewOrleans.Database;

namespace ReviewOrleans.Hosting;

/// <summary>
/// How silos and standalone gateways find each other (<c>Cluster:Membership</c>): <c>localhost</c> (one machine,
/// the embedded default), <c>static</c> (a client given silos' gateway endpoints, <c>Cluster:Gateways</c>) or
/// <c>adonet</c> (Orleans' ADO.NET membership table in the cluster's PostgreSQL).
/// </summary>
public static class ClusterMembership
{
    /// <summary>
    /// Failure detection for the <c>adonet</c> membership. A silo killed without a word is declared dead once
    /// <see cref="ClusterMembershipOptions.NumMissedProbesLimit"/> probes of <see cref="ClusterMembershipOptions.ProbeTimeout"/>
    /// each went unanswered and enough silos voted (two by default; one in a two-silo cluster), and only then do its
    /// grains and stream queues move. Orleans' defaults (3 × 5 s probes, votes expiring after 2 min, the table read
    /// every minute) take 20–60 s; these take about 6–10 s, which keeps kill-to-scoring-again under the 30 s target
    /// (docs/operations.md). A busy silo that misses three 2-second probes is also declared dead, so these are
    /// settable: <c>Cluster:ProbeTimeout</c>, <c>Cluster:MissedProbesLimit</c>.
    /// </summary>
    private static void ConfigureFailureDetection(OptionsBuilder<ClusterMembershipOptions> options, IConfiguration config) =>
        options.Configure(o =>
        {
            o.ProbeTimeout = config.GetValue("Cluster:ProbeTimeout", TimeSpan.FromSeconds(2));
            o.NumMissedProbesLimit = config.GetValue("Cluster:MissedProbesLimit", 3);
            o.TableRefreshTimeout = TimeSpan.FromSeconds(5);
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
            o.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(30);
            // A silo that restarts on the same address must not wait for the dead one's entry to age out.
            o.DefunctSiloExpiration = TimeSpan.FromHours(1);
        });

    public static string Kind(IConfiguration config) =>
        config.GetValue("Cluster:Membership", config.GetSection("Cluster:Gateways").Get<string[]>() is { Length: > 0 } ? "static" : "localhost")!.ToLowerInvariant();

    public static string ServiceId(IConfiguration config) => config.GetValue("Cluster:ServiceId", "revieworleans")!;

    public static string ClusterId(IConfiguration config) => config.GetValue("Cluster:ClusterId", "revieworleans")!;

    /// <summary>Silo to silo traffic (<c>Cluster:SiloPort</c>).</summary>
    public static int SiloPort(IConfiguration config) => config.GetValue("Cluster:SiloPort", 11111);

    /// <summary>Where Orleans clients (standalone gateways, reviewctl-free tools) connect (<c>Cluster:GatewayPort</c>; 0: none on this silo).</summary>
    public static int GatewayPort(IConfiguration config) => config.GetValue("Cluster:GatewayPort", 30000);

    /// <summary>Configures membership, endpoints and ids of a silo.</summary>
    /// <summary>True in the Kubernetes manifests (deploy/k8s): Orleans' Kubernetes hosting, with the adonet membership.</summary>
    public const string KubernetesSetting = "Cluster:Kubernetes";

    public static ISiloBuilder UseReviewClustering(this ISiloBuilder silo, IConfiguration config)
    {
        var kind = Kind(config);
        switch (kind)
        {
            case "localhost":
                silo.UseLocalhostClustering(SiloPort(config), GatewayPort(config), serviceId: ServiceId(config), clusterId: ClusterId(config));
                break;
            case "adonet":
                var connectionString = ClusterProfile.PostgresConnectionString(config);
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = PostgresSchema.Invariant;
                    o.ConnectionString = connectionString;
                });
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ServiceId = ServiceId(config);
                    o.ClusterId = ClusterId(config);
                });
                // Other silos and clients reach this one at the advertised address; it listens on every interface
                // (containers advertise the pod's address but may be reached through another).
                silo.ConfigureEndpoints(AdvertisedAddress(config), SiloPort(config), GatewayPort(config),
                    listenOnAnyHostAddress: config.GetValue("Cluster:ListenOnAnyAddress", false));
                ConfigureFailureDetection(silo.Services.AddOptions<ClusterMembershipOptions>(), config);
                if (config.GetValue(KubernetesSetting, false))
                {
                    // In a pod: the silo's name, address and ids come from the pod (POD_NAME, POD_IP, the
                    // orleans/* labels), and silos whose pods are gone are removed from the membership table at
                    // once rather than after missed probes. Membership itself stays on PostgreSQL.
                    silo.UseKubernetesHosting();
                }
                break;
            default:
                throw new OptionsValidationException("Cluster:Membership", typeof(string),
                    [$"Cluster:Membership '{kind}' is not one of: localhost, adonet (a silo cannot use static membership)"]);
        }
        return silo;
    }

    /// <summary>Configures how an Orleans client (the standalone gateway) finds the silos.</summary>
    public static IClientBuilder UseReviewClustering(this IClientBuilder client, IConfiguration config)
    {
        var kind = Kind(config);
        switch (kind)
        {
            case "localhost":
                // The same setting the silo listens on, so one Cluster__GatewayPort serves both processes.
                client.UseLocalhostClustering(GatewayPort(config), ServiceId(config), ClusterId(config));
                return client;
            case "static":
                var gateways = config.GetSection("Cluster:Gateways").Get<string[]>() ?? [];
                if (gateways.Length == 0)
                {
                    throw new OptionsValidationException("Cluster:Gateways", typeof(string[]),
                        ["Cluster:Membership 'static' needs Cluster:Gateways: each entry ip:port of a silo's gateway, e.g. 10.0.0.5:30000"]);
                }
                client.UseStaticClustering(gateways.Select(g => IPEndPoint.TryParse(g, out var endpoint) && endpoint.Port > 0 ? endpoint
                    : throw new OptionsValidationException("Cluster:Gateways", typeof(string[]),
                        [$"Cluster:Gateways has '{g}'; each entry must be ip:port of a silo's gateway, e.g. 10.0.0.5:30000"])).ToArray());
                break;
            case "adonet":
                var connectionString = ClusterProfile.PostgresConnectionString(config);
                client.UseAdoNetClustering(o =>
                {
                    o.Invariant = PostgresSchema.Invariant;
                    o.ConnectionString = connectionString;
                });
                // A killed silo's gateway leaves the list at the next refresh instead of after a minute.
                client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
                break;
            default:
                throw new OptionsValidationException("Cluster:Membership", typeof(string),
                    [$"Cluster:Membership '{kind}' is not one of: localhost, static, adonet"]);
        }
        client.Configure<ClusterOptions>(o =>
        {
            o.ServiceId = ServiceId(config);
            o.ClusterId = ClusterId(config);
        });
        return client;
    }

    /// <summary>The address a silo advertises in the membership table (<c>Cluster:AdvertisedIP</c>, default loopback).</summary>
    public static IPAddress AdvertisedAddress(IConfiguration config)
    {
        var value = config.GetValue("Cluster:AdvertisedIP", "127.0.0.1")!;
        return IPAddress.TryParse(value, out var address) && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any)
            ? address
            : throw new OptionsValidationException("Cluster:AdvertisedIP", typeof(string),
                [$"Cluster:AdvertisedIP '{value}' must be the IP address other silos and gateways reach this silo at (e.g. 10.0.0.5), not a name or 0.0.0.0"]);
    }
}
