using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ReviewOrleans.Gateway;

/// <summary>
/// Healthy while the cluster answers and has an active silo: asks the management grain for the active hosts, so a
/// standalone gateway that lost its silos reports it instead of accepting reviews it cannot publish.
/// </summary>
public sealed class ClusterHealthCheck(IClusterClient cluster) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var hosts = await cluster.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(Timeout, cancellationToken);
            return hosts.Count > 0
                ? HealthCheckResult.Healthy($"{hosts.Count} active silo(s)")
                : HealthCheckResult.Unhealthy("the cluster has no active silo");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"the cluster does not answer: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }
}
