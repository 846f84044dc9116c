using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Database;
using YamlDotNet.RepresentationModel;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// deploy/: the Dockerfiles, the compose file and the Kubernetes manifests. No Docker daemon or Kubernetes cluster is
/// at hand where these tests run, so they check what can be checked without one: the files parse, hold what a
/// deployment needs, agree with one another, and set only settings the code reads. <see cref="DeploymentEnvironmentTests"/>
/// starts the built silo and gateway with the environment the files give them.
/// </summary>
public sealed class DeploymentFilesTests
{
    /// <summary>
    /// Every <c>Section__Key</c> variable the deployment files may set, as a configuration path (a list's index as
    /// <c>N</c>). Adding one here is a claim that the code reads it: <see cref="EveryKnownSetting_IsReadBySourceCode"/>.
    /// </summary>
    private static readonly string[] KnownSettings =
    [
        "Cluster:ClusterId", "Cluster:ServiceId", "Cluster:AdvertisedIP", "Cluster:ListenOnAnyAddress", "Cluster:SiloPort",
        "Cluster:GatewayPort", "Cluster:Kubernetes",
        "Gateway:Enabled", "Gateway:BindAddress", "Gateway:GrpcPort", "Gateway:HttpPort", "Gateway:ApiKeys:N",
    ];

    /// <summary>Plain variables the files may set for the project's processes (ClusterProfile's two, and HOME).</summary>
    private static readonly string[] ProcessVariables = ["REVIEWORLEANS_PROFILE", "REVIEWORLEANS_POSTGRES", "HOME"];

    /// <summary>What Orleans' Kubernetes hosting (Microsoft.Orleans.Hosting.Kubernetes) reads from a silo pod's environment.</summary>
    private static readonly string[] KubernetesHostingVariables = ["POD_NAME", "POD_NAMESPACE", "POD_IP", "ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID"];

    [Fact]
    public void Compose_HasPostgresTheSchemaJobTwoSilosAndAGateway()
    {
        var compose = ComposeFile.Load();

        var postgres = compose.Service(compose.Postgres);
        Assert.StartsWith("postgres:15", postgres.Text("image"));
        Assert.Contains("pg_isready", string.Join(" ", postgres.Items("healthcheck", "test").Select(t => t.Text())));

        var schema = compose.Service(compose.Schema);
        Assert.EndsWith("reviewctl.dll", Assert.Single(schema.Items("entrypoint").Select(t => t.Text()), t => t!.EndsWith(".dll", StringComparison.Ordinal)));
        Assert.Equal(["db", "init"], schema.Items("command").Select(t => t.Text()));
        Assert.Equal("service_healthy", schema.Text("depends_on", compose.Postgres, "condition"));

        Assert.Equal(2, compose.Silos.Count);
        foreach (var silo in compose.Silos)
        {
            Assert.Equal("service_completed_successfully", compose.Service(silo).Text("depends_on", compose.Schema, "condition"));
        }
        // The gateway's /healthz is ok only once a silo is active: it starts when both silos answer theirs.
        var gateway = compose.Service(compose.Gateway);
        Assert.All(compose.Silos, silo => Assert.Equal("service_healthy", gateway.Text("depends_on", silo, "condition")));
    }

    [Fact]
    public void Compose_EveryMemberAgreesOnTheClusterAndItsDatabase()
    {
        var compose = ComposeFile.Load();
        var variables = new Dictionary<string, string> { ["POSTGRES_PASSWORD"] = "the-password", ["REVIEWORLEANS_API_KEY"] = new string('k', 32) };
        var members = compose.Silos.Append(compose.Gateway).Select(name => (Name: name, Environment: compose.EnvironmentOf(name, variables))).ToList();

        foreach (var setting in new[] { "REVIEWORLEANS_PROFILE", "REVIEWORLEANS_POSTGRES", "Cluster__ServiceId", "Cluster__ClusterId" })
        {
            var values = members.Select(m => m.Environment.GetValueOrDefault(setting)).Distinct().ToList();
            Assert.True(values.Count == 1 && values[0] is not null, $"{setting}: {string.Join(", ", members.Select(m => $"{m.Name}={m.Environment.GetValueOrDefault(setting)}"))}");
        }
        Assert.Equal("cluster", members[0].Environment["REVIEWORLEANS_PROFILE"]);
        // The schema job prepares the database the members use.
        Assert.Equal(members[0].Environment["REVIEWORLEANS_POSTGRES"], compose.EnvironmentOf(compose.Schema, variables)["REVIEWORLEANS_POSTGRES"]);

        // ... which is the postgres service's, under the user, database and password it was created with.
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(members[0].Environment["REVIEWORLEANS_POSTGRES"]);
        var server = compose.EnvironmentOf(compose.Postgres, variables);
        Assert.Equal(compose.Postgres, connection.Host);
        Assert.Equal(server["POSTGRES_USER"], connection.Username);
        Assert.Equal(server["POSTGRES_DB"], connection.Database);
        Assert.Equal(server["POSTGRES_PASSWORD"], connection.Password);
        Assert.Equal("the-password", connection.Password);
    }

    [Fact]
    public void Compose_SilosAdvertiseTheFixedAddressesTheyHave()
    {
        var compose = ComposeFile.Load();
        var advertised = new List<IPAddress>();
        foreach (var silo in compose.Silos)
        {
            var service = compose.Service(silo);
            var environment = compose.EnvironmentOf(silo, null);
            // Written to the membership table for the other members to dial: an IP address, not a service name.
            Assert.True(IPAddress.TryParse(environment["Cluster__AdvertisedIP"], out var address), $"{silo}: Cluster__AdvertisedIP '{environment["Cluster__AdvertisedIP"]}'");
            var network = Assert.Single(service.Entries("networks"));
            Assert.Equal(environment["Cluster__AdvertisedIP"], network.Value.Text("ipv4_address"));
            var subnet = compose.Root.Items("networks", network.Key, "ipam", "config").Select(c => c.Text("subnet")).Single()!;
            Assert.True(IPNetwork.Parse(subnet).Contains(address), $"{silo}: {address} is outside {subnet}");
            advertised.Add(address);
        }
        Assert.Equal(advertised.Count, advertised.Distinct().Count());
    }

    [Fact]
    public void Compose_PublishesThePortsTheProcessesListenOn_OnLoopback()
    {
        var compose = ComposeFile.Load();
        foreach (var name in compose.Silos.Append(compose.Gateway))
        {
            var environment = compose.EnvironmentOf(name, null);
            var listening = new[] { "Gateway__HttpPort", "Gateway__GrpcPort" }.Where(environment.ContainsKey).Select(k => environment[k]).ToHashSet();
            var published = compose.Service(name).Items("ports").Select(p => p.Text()!).ToList();
            Assert.NotEmpty(published);
            foreach (var port in published)
            {
                // host-address:host-port:container-port; the API keys guard the ports, and loopback keeps them off the network.
                var parts = port.Split(':');
                Assert.True(parts.Length == 3 && parts[0] == "127.0.0.1", $"{name}: '{port}' is not published on the host's loopback");
                Assert.Contains(parts[2], listening);
            }
        }
    }

    [Fact]
    public void Compose_TakesEverySecretFromTheEnvironment()
    {
        var compose = ComposeFile.Load();
        // Compose interpolates values, not comments.
        var references = compose.Root.AllNodes.OfType<YamlScalarNode>().SelectMany(s => ComposeFile.Reference().Matches(s.Value ?? "")).ToList();
        Assert.Equal(["POSTGRES_PASSWORD", "REVIEWORLEANS_API_KEY"], references.Select(m => m.Groups["name"].Value).Distinct().Order());
        // Required (compose stops with the message when unset), never a default that would become a working secret.
        Assert.All(references, m => Assert.Equal(":?", m.Groups["op"].Value));

        foreach (var (name, _) in compose.Services)
        {
            foreach (var (key, value) in compose.EnvironmentOf(name, null))
            {
                if (key.Contains("ApiKeys", StringComparison.OrdinalIgnoreCase) || key.Contains("PASSWORD", StringComparison.Ordinal))
                {
                    Assert.Matches(@"^\$\{[A-Z_]+:\?[^}]*\}$", value);
                }
                if (value.Contains("Password=", StringComparison.OrdinalIgnoreCase))
                {
                    Assert.Matches(@"Password=\$\{POSTGRES_PASSWORD:\?", value);
                }
            }
        }
    }

    [Fact]
    public void KubernetesManifests_Parse_AndEachObjectHasKindAndName()
    {
        var files = DeployFiles.KubernetesFiles();
        Assert.Contains(files, f => System.IO.Path.GetFileName(f) == "kustomization.yaml");
        foreach (var file in files)
        {
            var documents = DeployFiles.Documents(file);
            Assert.NotEmpty(documents);
            foreach (var document in documents)
            {
                var what = $"{System.IO.Path.GetFileName(file)}: {document.Text("kind")} {document.Text("metadata", "name")}";
                Assert.False(string.IsNullOrEmpty(document.Text("apiVersion")), what);
                Assert.False(string.IsNullOrEmpty(document.Text("kind")), what);
                if (document.Text("kind") != "Kustomization")
                {
                    Assert.False(string.IsNullOrEmpty(document.Text("metadata", "name")), what);
                    // Namespace-less: the operator picks it (kubectl -n, or kustomize's namespace).
                    Assert.Null(document.At("metadata", "namespace"));
                }
            }
        }
    }

    [Fact]
    public void Kustomization_ListsEveryManifestButTheSecretTemplate()
    {
        var kustomization = Assert.Single(DeployFiles.Documents(DeployFiles.Path("deploy", "k8s", "kustomization.yaml")));
        var listed = kustomization.Items("resources").Select(r => r.Text()!).Order().ToList();
        var manifests = DeployFiles.KubernetesFiles().Select(f => System.IO.Path.GetFileName(f))
            .Where(f => f is not "kustomization.yaml" and not "secret.example.yaml").Order().ToList();
        Assert.Equal(manifests, listed);
        Assert.True(File.Exists(DeployFiles.Path("deploy", "k8s", "secret.example.yaml")));
    }

    [Fact]
    public void SiloDeployment_RunsTwoSilosWithKubernetesHosting_ProbedOnHealthz()
    {
        var k8s = KubernetesObjects.Load();
        var deployment = k8s.SiloDeployment;
        Assert.Equal("2", deployment.Text("spec", "replicas"));
        var template = deployment.At("spec", "template")!;
        var container = k8s.SiloContainer;

        // Readiness and liveness, and the startup probe that holds liveness off while the silo joins.
        foreach (var probe in new[] { "readinessProbe", "livenessProbe", "startupProbe" })
        {
            Assert.Equal("/healthz", container.Text(probe, "httpGet", "path"));
            Assert.Equal(5182, KubernetesObjects.ContainerPort(container, container.Text(probe, "httpGet", "port")!));
        }
        var environment = KubernetesObjects.Environment(container);
        Assert.Equal("5182", environment["Gateway__HttpPort"].Text("value"));
        Assert.Equal("true", environment["Cluster__Kubernetes"].Text("value"));
        Assert.Equal("cluster", environment["REVIEWORLEANS_PROFILE"].Text("value"));

        // What UseKubernetesHosting reads, from the downward API; the ids from the labels it lists pods by.
        Assert.Equal("metadata.name", environment["POD_NAME"].Text("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.namespace", environment["POD_NAMESPACE"].Text("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("status.podIP", environment["POD_IP"].Text("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.labels['orleans/serviceId']", environment["ORLEANS_SERVICE_ID"].Text("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.labels['orleans/clusterId']", environment["ORLEANS_CLUSTER_ID"].Text("valueFrom", "fieldRef", "fieldPath"));
        Assert.False(string.IsNullOrEmpty(template.Text("metadata", "labels", "orleans/serviceId")));
        Assert.False(string.IsNullOrEmpty(template.Text("metadata", "labels", "orleans/clusterId")));
        // The project's own ids and address are the same values, so that Orleans and the settings check agree.
        Assert.Equal("$(ORLEANS_SERVICE_ID)", environment["Cluster__ServiceId"].Text("value"));
        Assert.Equal("$(ORLEANS_CLUSTER_ID)", environment["Cluster__ClusterId"].Text("value"));
        Assert.Equal("$(POD_IP)", environment["Cluster__AdvertisedIP"].Text("value"));

        // Non-root, nothing written to the image, and requests the scheduler can place by.
        Assert.Equal("true", template.Text("spec", "securityContext", "runAsNonRoot"));
        Assert.Equal("true", container.Text("securityContext", "readOnlyRootFilesystem"));
        Assert.False(string.IsNullOrEmpty(container.Text("resources", "requests", "cpu")));
        Assert.False(string.IsNullOrEmpty(container.Text("resources", "requests", "memory")));
    }

    [Fact]
    public void SiloServiceAccount_MayReadWatchAndDeleteItsNamespacesPods()
    {
        var k8s = KubernetesObjects.Load();
        var account = k8s.SiloDeployment.Text("spec", "template", "spec", "serviceAccountName");
        Assert.NotNull(k8s.Find("ServiceAccount", account!));
        var binding = Assert.Single(k8s.All, o => o.Text("kind") == "RoleBinding"
            && o.Items("subjects").Any(s => s.Text("kind") == "ServiceAccount" && s.Text("name") == account));
        Assert.Equal("Role", binding.Text("roleRef", "kind"));
        var role = k8s.Find("Role", binding.Text("roleRef", "name")!)!;
        var podRule = Assert.Single(role.Items("rules"), r => r.Items("resources").Any(x => x.Text() == "pods"));
        Assert.Equal([""], podRule.Items("apiGroups").Select(g => g.Text() ?? ""));
        var verbs = podRule.Items("verbs").Select(v => v.Text()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "get", "list", "watch", "delete" }, verbs);
    }

    [Fact]
    public void GatewayDeploymentAndService_ServeGrpcAndHttp_ForTheSilosCluster()
    {
        var k8s = KubernetesObjects.Load();
        var deployment = k8s.GatewayDeployment;
        var container = deployment.Items("spec", "template", "spec", "containers").Single();
        var environment = KubernetesObjects.Environment(container);
        var siloLabels = k8s.SiloDeployment.At("spec", "template", "metadata", "labels");
        Assert.Equal(siloLabels.Text("orleans/serviceId"), environment["Cluster__ServiceId"].Text("value"));
        Assert.Equal(siloLabels.Text("orleans/clusterId"), environment["Cluster__ClusterId"].Text("value"));
        Assert.Equal("/healthz", container.Text("readinessProbe", "httpGet", "path"));
        // Not a silo: Orleans' Kubernetes hosting lists the pods with these labels as silos.
        Assert.Null(deployment.At("spec", "template", "metadata", "labels", "orleans/serviceId"));

        var service = Assert.Single(k8s.All, o => o.Text("kind") == "Service");
        var podLabels = deployment.At("spec", "template", "metadata", "labels")!;
        Assert.All(service.Entries("spec", "selector"), s => Assert.Equal(s.Value.Text(), podLabels.Text(s.Key)));
        var ports = service.Items("spec", "ports").ToDictionary(p => int.Parse(p.Text("port")!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal([5181, 5182], ports.Keys.Order());
        foreach (var (port, entry) in ports)
        {
            Assert.Equal(port, KubernetesObjects.ContainerPort(container, entry.Text("targetPort")!));
        }
        Assert.Equal("5181", environment["Gateway__GrpcPort"].Text("value"));
        Assert.Equal("5182", environment["Gateway__HttpPort"].Text("value"));
    }

    [Fact]
    public void SchemaJob_RunsReviewctlDbInit_FromTheSiloImage()
    {
        var k8s = KubernetesObjects.Load();
        var job = Assert.Single(k8s.All, o => o.Text("kind") == "Job");
        var container = job.Items("spec", "template", "spec", "containers").Single();
        Assert.Equal(k8s.SiloContainer.Text("image"), container.Text("image"));
        Assert.Equal(["dotnet", "/app/reviewctl/reviewctl.dll", "db", "init"], container.Items("command").Select(c => c.Text()));
        Assert.Contains("REVIEWORLEANS_POSTGRES", KubernetesObjects.Environment(container).Keys);
    }

    [Fact]
    public void SecretTemplate_HoldsEveryKeyTheManifestsUse_AsPlaceholders()
    {
        var k8s = KubernetesObjects.Load();
        var secret = Assert.Single(DeployFiles.Documents(DeployFiles.Path("deploy", "k8s", "secret.example.yaml")));
        Assert.Equal("Secret", secret.Text("kind"));
        var held = secret.Entries("stringData").ToDictionary(e => e.Key, e => e.Value.Text()!);
        var used = k8s.All.SelectMany(KubernetesObjects.Containers).SelectMany(c => c.Items("env"))
            .Select(e => e.At("valueFrom", "secretKeyRef")).OfType<YamlMappingNode>()
            .Select(r => (Name: r.Text("name"), Key: r.Text("key"))).Distinct().ToList();
        Assert.NotEmpty(used);
        Assert.All(used, u => Assert.Equal(secret.Text("metadata", "name"), u.Name));
        Assert.Equal(used.Select(u => u.Key!).Order(), held.Keys.Order());
        // No real secret in the repository: each value says it must be replaced.
        Assert.All(held, h => Assert.Contains("CHANGE-ME", h.Value));
    }

    [Fact]
    public void EveryEnvironmentVariable_IsOneTheProcessesOrKubernetesHostingRead()
    {
        var compose = ComposeFile.Load();
        var names = compose.Services.Keys.Where(s => s != compose.Postgres)
            .SelectMany(s => compose.EnvironmentOf(s, null).Keys.Select(k => (Where: $"compose.yaml {s}", Name: k)))
            .ToList();
        var k8s = KubernetesObjects.Load();
        foreach (var container in k8s.All.SelectMany(KubernetesObjects.Containers))
        {
            var hosting = ReferenceEquals(container, k8s.SiloContainer);
            names.AddRange(KubernetesObjects.Environment(container).Keys.Select(k => (Where: $"k8s {container.Text("name")}", Name: k)));
            if (!hosting)
            {
                Assert.DoesNotContain(KubernetesObjects.Environment(container).Keys, k => KubernetesHostingVariables.Contains(k));
            }
        }
        Assert.Contains(names, n => n.Name.Contains("__", StringComparison.Ordinal));

        var known = KnownSettings.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var unknown = names.Where(n => n.Name.Contains("__", StringComparison.Ordinal)
                ? !known.Contains(DeployFiles.SettingPath(n.Name))
                : !ProcessVariables.Contains(n.Name) && !KubernetesHostingVariables.Contains(n.Name))
            .Select(n => $"{n.Where}: {n.Name}").ToList();
        Assert.True(unknown.Count == 0, "not a setting the processes read: " + string.Join("; ", unknown));
    }

    [Fact]
    public void EveryKnownSetting_IsReadBySourceCode()
    {
        // Read as a literal path ("Cluster:AdvertisedIP") or bound to an options property of that name.
        var source = string.Join("\n", Directory.EnumerateFiles(DeployFiles.Path("src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{System.IO.Path.DirectorySeparatorChar}obj{System.IO.Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{System.IO.Path.DirectorySeparatorChar}bin{System.IO.Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        var unread = KnownSettings.Select(s => s.EndsWith(":N", StringComparison.Ordinal) ? s[..^2] : s)
            .Where(path => !source.Contains($"\"{path}\"", StringComparison.OrdinalIgnoreCase)
                && !Regex.IsMatch(source, $@"\bpublic\s+[\w<>\[\]?,. ]+\s+{Regex.Escape(path.Split(':')[^1])}\s*\{{\s*get"))
            .ToList();
        Assert.True(unread.Count == 0, "no code under src/ reads: " + string.Join(", ", unread));
        foreach (var variable in ProcessVariables.Where(v => v.StartsWith("REVIEWORLEANS_", StringComparison.Ordinal)))
        {
            Assert.Contains($"\"{variable}\"", source);
        }
    }

    public static TheoryData<string, string, string> Images => new()
    {
        { "silo.Dockerfile", "src/Silo", "5182" },
        { "gateway.Dockerfile", "src/Gateway", "5181" },
    };

    [Theory]
    [MemberData(nameof(Images))]
    public void Dockerfile_BuildsWithTheSdk_RunsOnAspNetAsNonRoot_AndStartsItsAssembly(string dockerfile, string project, string port)
    {
        var stages = Dockerfile.Load(dockerfile).Stages;
        Assert.True(stages.Count >= 2, $"{dockerfile}: {stages.Count} stage(s); a multi-stage build keeps the SDK out of the image");
        Assert.Contains("mcr.microsoft.com/dotnet/sdk:10.0", stages[0].From);
        Assert.Contains($"dotnet publish {project} -c Release", string.Join("\n", stages[0].Arguments("RUN")));

        var runtime = stages[^1];
        Assert.Contains("mcr.microsoft.com/dotnet/aspnet:10.0", runtime.From);
        var user = Assert.Single(runtime.Arguments("USER"));
        Assert.DoesNotContain(user.Split(':')[0], new[] { "root", "0" });
        Assert.Contains(runtime.Arguments("COPY"), c => c.StartsWith("--from=", StringComparison.Ordinal));
        Assert.Contains(port, runtime.Arguments("EXPOSE").SelectMany(e => e.Split(' ', StringSplitOptions.RemoveEmptyEntries)));

        // The entry point is the assembly the project builds.
        var assembly = AssemblyNameOf(project) + ".dll";
        Assert.Equal($"[\"dotnet\", \"{assembly}\"]", Assert.Single(runtime.Arguments("ENTRYPOINT")));
        Assert.Contains(runtime.Arguments("HEALTHCHECK"), h => h.Contains("/healthz", StringComparison.Ordinal));
    }

    [Fact]
    public void SiloImage_CarriesReviewctl_WhereTheSchemaJobsRunIt()
    {
        var build = string.Join("\n", Dockerfile.Load("silo.Dockerfile").Stages[0].Arguments("RUN"));
        Assert.Matches(@"dotnet publish tools/ReviewCtl .*-o /app/reviewctl(\s|$)", build);
        Assert.Equal("reviewctl", AssemblyNameOf("tools/ReviewCtl"));
    }

    [Fact]
    public void DockerIgnore_KeepsBuildOutputStateAndGitOutOfTheContext()
    {
        var patterns = File.ReadAllLines(DeployFiles.Path(".dockerignore")).Select(l => l.Trim().TrimEnd('/')).ToHashSet();
        // Patterns match from the context's root, so nested folders need **/.
        Assert.Superset(new HashSet<string> { "**/bin", "**/obj", "**/data", ".git" }, patterns);
    }

    private static string AssemblyNameOf(string project)
    {
        var csproj = Directory.GetFiles(DeployFiles.Path(project.Split('/')), "*.csproj").Single();
        var named = Regex.Match(File.ReadAllText(csproj), "<AssemblyName>([^<]+)</AssemblyName>");
        return named.Success ? named.Groups[1].Value : System.IO.Path.GetFileNameWithoutExtension(csproj);
    }
}

/// <summary>
/// The built silo and gateway, started as their containers start them, with the environment the compose file or the
/// silo Deployment gives them: only what cannot exist on this machine is replaced (the database's address, the
/// advertised address, ports).
/// </summary>
[Collection(ProcessClusterCollection.Name)]
public sealed class DeploymentEnvironmentTests
{
    [PostgresFact]
    public async Task ASiloAndTheGateway_StartWithTheEnvironmentTheComposeFileSets()
    {
        await using var database = await TestDatabase.CreateAsync("compose");
        await PostgresSchema.ApplyAsync(database.ConnectionString); // the compose file's schema service: reviewctl db init
        var compose = ComposeFile.Load();
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        // What the operator's deploy/.env or environment supplies.
        var variables = new Dictionary<string, string> { ["POSTGRES_PASSWORD"] = "not-used-here", ["REVIEWORLEANS_API_KEY"] = key };

        var silo = compose.EnvironmentOf(compose.Silos[0], variables);
        Assert.Equal("cluster", silo["REVIEWORLEANS_PROFILE"]);
        Assert.Equal("0.0.0.0", silo["Gateway__BindAddress"]); // so the API key is required, as in the container
        // The compose network's names and addresses, swapped for this machine's.
        silo["REVIEWORLEANS_POSTGRES"] = database.ConnectionString;
        silo["Cluster__AdvertisedIP"] = "127.0.0.1";
        DeployFiles.UseFreePorts(silo);
        await using var siloProcess = await SiloProcess.StartAsImageAsync(
            BuildOutput.Find("src", "Silo", "ReviewOrleans.Silo.dll"), Dockerfile.Load("silo.Dockerfile").Environment, silo);

        var gateway = compose.EnvironmentOf(compose.Gateway, variables);
        gateway["REVIEWORLEANS_POSTGRES"] = database.ConnectionString;
        DeployFiles.UseFreePorts(gateway);
        // Healthy means an active silo answered: it found the silo through the membership table, under the same ids.
        await using var gatewayProcess = await SiloProcess.StartAsImageAsync(
            BuildOutput.Find("src", "Gateway", "ReviewOrleans.Gateway.dll"), Dockerfile.Load("gateway.Dockerfile").Environment, gateway);

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{gateway["Gateway__GrpcPort"]}");
        var client = new ReviewGateway.ReviewGatewayClient(channel);
        var layout = await client.GetClusterAsync(new GetClusterRequest(), new Metadata { { "authorization", $"Bearer {key}" } });
        Assert.Single(layout.Silos, s => s.Status == "Active");
        // The key came from the compose file's REVIEWORLEANS_API_KEY, and it is required.
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.GetClusterAsync(new GetClusterRequest()));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [PostgresFact]
    public async Task ASilo_StartsWithTheEnvironmentTheSiloDeploymentSets()
    {
        await using var database = await TestDatabase.CreateAsync("k8s");
        await PostgresSchema.ApplyAsync(database.ConnectionString); // the schema Job
        var k8s = KubernetesObjects.Load();
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        // The downward API's answers for a pod here, and the Secret's values.
        var silo = KubernetesObjects.ResolveEnvironment(k8s.SiloContainer, k8s.SiloDeployment.At("spec", "template")!,
            new Dictionary<string, string> { ["metadata.name"] = "revieworleans-silo-test", ["metadata.namespace"] = "test", ["status.podIP"] = "127.0.0.1" },
            new Dictionary<string, string> { ["postgres-connection"] = database.ConnectionString, ["api-key"] = key });
        Assert.Equal("127.0.0.1", silo["Cluster__AdvertisedIP"]);
        Assert.Equal(silo["ORLEANS_SERVICE_ID"], silo["Cluster__ServiceId"]);
        // Orleans' Kubernetes hosting needs an API server to list pods; there is none here.
        Assert.Equal("true", silo["Cluster__Kubernetes"]);
        silo["Cluster__Kubernetes"] = "false";
        DeployFiles.UseFreePorts(silo);

        await using var process = await SiloProcess.StartAsImageAsync(
            BuildOutput.Find("src", "Silo", "ReviewOrleans.Silo.dll"), Dockerfile.Load("silo.Dockerfile").Environment, silo);
        await Eventually.Get(() => Task.FromResult(process.Output), o => o.Contains("(profile cluster)", StringComparison.Ordinal),
            "the silo's start banner", TimeSpan.FromSeconds(10));
    }
}

/// <summary>Where the deployment files are, and what they share.</summary>
internal static class DeployFiles
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "ReviewOrleans.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException($"no ReviewOrleans.sln above {AppContext.BaseDirectory}");
    });

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root.Value, .. parts]);

    public static IReadOnlyList<string> KubernetesFiles() =>
        Directory.GetFiles(Path("deploy", "k8s"), "*.yaml").Order(StringComparer.Ordinal).ToList();

    /// <summary>Each YAML document's root node (YamlDotNet resolves anchors and aliases).</summary>
    public static IReadOnlyList<YamlNode> Documents(string file)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(file))
        {
            stream.Load(reader);
        }
        return stream.Documents.Select(d => d.RootNode).ToList();
    }

    /// <summary><c>Gateway__ApiKeys__0</c> → <c>Gateway:ApiKeys:N</c>.</summary>
    public static string SettingPath(string variable) =>
        string.Join(':', variable.Split("__").Select(part => part.All(char.IsAsciiDigit) ? "N" : part));

    /// <summary>Each port setting present gets a free port of this machine, as each container has its own.</summary>
    public static void UseFreePorts(Dictionary<string, string> environment)
    {
        Assert.Contains("Gateway__HttpPort", environment.Keys);
        foreach (var setting in new[] { "Cluster__SiloPort", "Cluster__GatewayPort", "Gateway__GrpcPort", "Gateway__HttpPort" })
        {
            if (environment.ContainsKey(setting))
            {
                environment[setting] = SiloProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }
    }

    // Small helpers over YamlDotNet's representation model: a missing key or a node of another shape reads as null or empty.

    public static YamlNode? At(this YamlNode? node, params string[] path)
    {
        foreach (var key in path)
        {
            node = node is YamlMappingNode mapping
                ? mapping.Children.Where(c => c.Key is YamlScalarNode k && k.Value == key).Select(c => c.Value).FirstOrDefault()
                : null;
        }
        return node;
    }

    public static string? Text(this YamlNode? node, params string[] path) => node.At(path) is YamlScalarNode scalar ? scalar.Value : null;

    public static IEnumerable<YamlNode> Items(this YamlNode? node, params string[] path) =>
        node.At(path) is YamlSequenceNode sequence ? sequence.Children : [];

    public static IEnumerable<KeyValuePair<string, YamlNode>> Entries(this YamlNode? node, params string[] path) =>
        node.At(path) is YamlMappingNode mapping
            ? mapping.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value ?? "", c.Value))
            : [];
}

/// <summary>deploy/compose.yaml, its services told apart by what they run.</summary>
internal sealed partial class ComposeFile
{
    private ComposeFile(YamlNode root)
    {
        Root = root;
        Services = root.Entries("services").ToDictionary(e => e.Key, e => e.Value);
        Postgres = Services.Single(s => s.Value.Text("image")?.StartsWith("postgres:", StringComparison.Ordinal) == true).Key;
        Schema = Services.Single(s => s.Value.Items("entrypoint").Any(e => e.Text()?.Contains("reviewctl", StringComparison.Ordinal) == true)).Key;
        Silos = BuiltFrom("silo.Dockerfile").Where(s => s != Schema).ToList();
        Gateway = BuiltFrom("gateway.Dockerfile").Single();
    }

    public YamlNode Root { get; }

    public IReadOnlyDictionary<string, YamlNode> Services { get; }

    public string Postgres { get; }

    public string Schema { get; }

    public IReadOnlyList<string> Silos { get; }

    public string Gateway { get; }

    public static ComposeFile Load() => new(Assert.Single(DeployFiles.Documents(DeployFiles.Path("deploy", "compose.yaml"))));

    public YamlNode Service(string name) => Services[name];

    /// <summary>
    /// A service's environment, each value as compose interpolates it from <paramref name="variables"/> (a required
    /// variable that is missing fails, as compose stops); with null, as written.
    /// </summary>
    public Dictionary<string, string> EnvironmentOf(string service, IReadOnlyDictionary<string, string>? variables)
    {
        var environment = Services[service].At("environment");
        Assert.True(environment is YamlMappingNode, $"{service}: environment is not a mapping");
        return environment.Entries().ToDictionary(e => e.Key, e => variables is null ? e.Value.Text() ?? "" : Interpolate(e.Value.Text() ?? "", variables));
    }

    /// <summary>${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}.</summary>
    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?<op>:?[-?])(?<arg>[^}]*))?\}")]
    public static partial Regex Reference();

    private static string Interpolate(string value, IReadOnlyDictionary<string, string> variables)
    {
        var result = Reference().Replace(value, m =>
        {
            var set = variables.TryGetValue(m.Groups["name"].Value, out var given);
            var op = m.Groups["op"].Value;
            var empty = string.IsNullOrEmpty(given);
            return op switch
            {
                ":-" => empty ? m.Groups["arg"].Value : given!,
                "-" => set ? given! : m.Groups["arg"].Value,
                ":?" when empty => throw new InvalidOperationException($"compose stops: {m.Groups["name"].Value}: {m.Groups["arg"].Value}"),
                "?" when !set => throw new InvalidOperationException($"compose stops: {m.Groups["name"].Value}: {m.Groups["arg"].Value}"),
                _ => given ?? "",
            };
        });
        Assert.DoesNotContain("$", result);
        return result;
    }

    private IEnumerable<string> BuiltFrom(string dockerfile) =>
        Services.Where(s => s.Value.Text("build", "dockerfile")?.EndsWith("/" + dockerfile, StringComparison.Ordinal) == true).Select(s => s.Key);
}

/// <summary>Every object of deploy/k8s/, and the silo's and gateway's among them.</summary>
internal sealed partial class KubernetesObjects
{
    private KubernetesObjects(IReadOnlyList<YamlNode> all)
    {
        All = all;
        SiloDeployment = DeploymentRunning("revieworleans-silo");
        GatewayDeployment = DeploymentRunning("revieworleans-gateway");
        SiloContainer = SiloDeployment.Items("spec", "template", "spec", "containers").Single();
    }

    public IReadOnlyList<YamlNode> All { get; }

    public YamlNode SiloDeployment { get; }

    public YamlNode GatewayDeployment { get; }

    public YamlNode SiloContainer { get; }

    public static KubernetesObjects Load() => new(DeployFiles.KubernetesFiles()
        .Where(f => System.IO.Path.GetFileName(f) is not "kustomization.yaml" and not "secret.example.yaml")
        .SelectMany(DeployFiles.Documents).ToList());

    public YamlNode? Find(string kind, string name) => All.SingleOrDefault(o => o.Text("kind") == kind && o.Text("metadata", "name") == name);

    /// <summary>A pod spec's containers, init containers included.</summary>
    public static IEnumerable<YamlNode> Containers(YamlNode workload) =>
        workload.Items("spec", "template", "spec", "initContainers").Concat(workload.Items("spec", "template", "spec", "containers"));

    public static Dictionary<string, YamlNode> Environment(YamlNode container) =>
        container.Items("env").ToDictionary(e => e.Text("name")!);

    /// <summary>A probe's or Service's port, by number or by the container port's name.</summary>
    public static int ContainerPort(YamlNode container, string port) =>
        int.TryParse(port, System.Globalization.CultureInfo.InvariantCulture, out var number) ? number
        : int.Parse(container.Items("ports").Single(p => p.Text("name") == port).Text("containerPort")!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// A container's environment as the kubelet sets it: literal values with <c>$(NAME)</c> expanded from the entries
    /// before them, the downward API's fields (<paramref name="fields"/>; labels from the pod template) and the Secret's
    /// keys (<paramref name="secrets"/>).
    /// </summary>
    public static Dictionary<string, string> ResolveEnvironment(YamlNode container, YamlNode podTemplate,
        IReadOnlyDictionary<string, string> fields, IReadOnlyDictionary<string, string> secrets)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in container.Items("env"))
        {
            var name = entry.Text("name")!;
            if (entry.Text("value") is { } literal)
            {
                environment[name] = DependentVariable().Replace(literal, m => environment.GetValueOrDefault(m.Groups[1].Value, m.Value));
            }
            else if (entry.Text("valueFrom", "fieldRef", "fieldPath") is { } field)
            {
                var label = LabelField().Match(field);
                environment[name] = label.Success ? podTemplate.Text("metadata", "labels", label.Groups[1].Value)! : fields[field];
            }
            else if (entry.Text("valueFrom", "secretKeyRef", "key") is { } secret)
            {
                environment[name] = secrets[secret];
            }
            else
            {
                throw new InvalidOperationException($"env {name}: neither a value, a fieldRef nor a secretKeyRef");
            }
        }
        return environment;
    }

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex DependentVariable();

    [GeneratedRegex(@"^metadata\.labels\['(.+)'\]$")]
    private static partial Regex LabelField();

    private YamlNode DeploymentRunning(string image) =>
        All.Single(o => o.Text("kind") == "Deployment" && o.Items("spec", "template", "spec", "containers").Any(c => c.Text("image") == image));
}

/// <summary>A Dockerfile of deploy/docker/, as instructions per stage (continuation lines joined, comments dropped).</summary>
internal sealed class Dockerfile
{
    private Dockerfile(IReadOnlyList<Stage> stages) => Stages = stages;

    public IReadOnlyList<Stage> Stages { get; }

    /// <summary>The final stage's ENV, as the image gives it to every container.</summary>
    public IReadOnlyDictionary<string, string> Environment => Stages[^1].Arguments("ENV")
        .Select(e => e.Split('=', 2))
        .ToDictionary(p => p[0].Trim(), p => p.Length > 1 ? p[1].Trim().Trim('"') : "");

    public static Dockerfile Load(string name)
    {
        var instructions = new List<(string Keyword, string Arguments)>();
        var pending = new StringBuilder();
        foreach (var raw in File.ReadAllLines(DeployFiles.Path("deploy", "docker", name)))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && pending.Length == 0))
            {
                continue;
            }
            if (line.EndsWith('\\'))
            {
                pending.Append(line[..^1]).Append(' ');
                continue;
            }
            pending.Append(line);
            var text = pending.ToString().Trim();
            pending.Clear();
            var space = text.IndexOf(' ', StringComparison.Ordinal);
            instructions.Add(space < 0 ? (text.ToUpperInvariant(), "") : (text[..space].ToUpperInvariant(), text[(space + 1)..].Trim()));
        }
        var stages = new List<Stage>();
        foreach (var (keyword, arguments) in instructions)
        {
            if (keyword == "FROM")
            {
                stages.Add(new Stage(arguments));
            }
            else if (stages.Count > 0)
            {
                stages[^1].Instructions.Add((keyword, arguments));
            }
        }
        return new Dockerfile(stages);
    }

    public sealed class Stage(string from)
    {
        public string From { get; } = from;

        public List<(string Keyword, string Arguments)> Instructions { get; } = [];

        public IReadOnlyList<string> Arguments(string keyword) =>
            Instructions.Where(i => i.Keyword == keyword).Select(i => i.Arguments).ToList();
    }
}
