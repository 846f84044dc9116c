using ReviewOrleans.Delivery;
using ReviewOrleans.Hosting;

namespace ReviewOrleans.Gateway;

/// <summary>
/// The <c>scored_reviews</c> table that QueryScoredReviews reads: the one the silos deliver to when
/// <c>Delivery:PostgreSQL</c> is on (the cluster profile's default), in <c>Delivery:PostgresConnectionString</c> or
/// else the cluster's database. <see cref="Query"/> is null where that delivery is off.
/// </summary>
public sealed class ScoredReviewStore(ScoredReviewQuery? query)
{
    public ScoredReviewQuery? Query => query;

    public static ScoredReviewStore From(IConfiguration configuration)
    {
        var options = configuration.GetSection(DeliveryOptions.SectionName).Get<DeliveryOptions>() ?? new DeliveryOptions();
        if (!options.PostgreSQL)
        {
            return new ScoredReviewStore(null);
        }
        return new ScoredReviewStore(new ScoredReviewQuery(Npgsql.NpgsqlDataSource.Create(PostgresConnectionString(options, configuration))));
    }

    /// <summary>The database scored reviews are delivered to: Delivery:PostgresConnectionString, else the cluster's.</summary>
    public static string PostgresConnectionString(DeliveryOptions options, IConfiguration configuration) =>
        !string.IsNullOrEmpty(options.PostgresConnectionString) ? options.PostgresConnectionString : ClusterProfile.PostgresConnectionString(configuration);
}
