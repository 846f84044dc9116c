using ReviewOrleans.Gateway;
using ReviewOrleans.Hosting;

// The gateway as its own process: an Orleans client of the cluster, serving the same gRPC service as the silo's
// co-hosted gateway. `--profile cluster` finds the silos through the cluster's PostgreSQL.
return await ClusterDatabase.RunAsync("revieworleans gateway", async () =>
{
    var (profile, rest) = ClusterProfile.FromArgs(args);
    var builder = WebApplication.CreateBuilder(rest);
    profile.ApplyTo(builder.Configuration);
    var config = builder.Configuration;
    // Refused before anything touches the cluster's database.
    var bind = BindAddress.From(config);
    builder.Services.AddApiKeys(config, bind, "the gateway");
    await ClusterDatabase.PrepareAsync(config, "gateway");

    builder.UseOrleansClient(client =>
    {
        client.UseReviewClustering(config).UseReviewTls(config).AddReviewStreams(config);
        if (TelemetryHosting.Traces(config))
        {
            client.AddActivityPropagation();
        }
    });
    builder.Services.AddReviewGateway(config);
    builder.Services.AddReviewTelemetry(config, "revieworleans-gateway");
    builder.WebHost.ConfigureKestrel(k => k.ListenOnGatewayPorts(bind,
        config.GetValue("Gateway:GrpcPort", 5181), config.GetValue("Gateway:HttpPort", 5182)));

    var app = builder.Build();
    app.UseApiKeys();
    app.MapReviewGateway();
    app.MapReviewTelemetry(config);
    await app.RunAsync();
});
