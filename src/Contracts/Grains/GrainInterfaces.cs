namespace ReviewOrleans.Contracts.Grains;

/// <summary>
/// Subscribes implicitly to one partition of the "reviews" stream: validates, de-duplicates, scores sentiment,
/// pre-aggregates windows and feeds the category, anomaly, counting and priority grains. Keyed by partition number.
/// </summary>
public interface IReviewPartitionGrain : IGrainWithIntegerKey
{
    /// <summary>Sends everything buffered to the downstream grains now (normally a timer does it).</summary>
    Task Flush();

    Task<PartitionStats> GetStats();

    /// <summary>The silo this activation runs on, as Orleans writes a silo address (S{ip}:{port}:{generation}).</summary>
    Task<string> GetHost();

    /// <summary>
    /// Migrates (flushing first) when running elsewhere than <paramref name="silo"/>, the silo its placement now
    /// chooses; returns whether it moves.
    /// </summary>
    Task<bool> MoveIfMisplaced(string silo);
}

/// <summary>
/// Which queues of the "reviews" stream one silo's pulling agents read, as its stream queue balancer assigns them.
/// Keyed by the silo's address as Orleans writes it (S{ip}:{port}:{generation}); the activation runs on that silo.
/// </summary>
public interface ISiloStreamQueuesGrain : IGrainWithStringKey
{
    /// <summary>Queue numbers, 0 to Streams:Queues - 1, in the order of the provider's queue list.</summary>
    Task<List<int>> GetQueues();
}

/// <summary>One product category's timer-driven tumbling windows and their persisted history. Keyed by category.</summary>
public interface ICategoryGrain : IGrainWithStringKey
{
    /// <summary>Adds window pre-aggregates of the log rows in <paramref name="range"/>; rows already applied are not applied again.</summary>
    Task<DeliveryReceipt> MergePartials(LogRange range, List<CategoryPartial> partials);

    Task<CategoryHistory> GetHistory(int lastWindows);

    /// <summary>Closes due windows now (normally the timer does it); returns how many were emitted.</summary>
    Task<int> Tick();
}

/// <summary>The set of categories seen so far. A single grain: partitions call it only for categories new to them.</summary>
public interface ICategoryDirectoryGrain : IGrainWithIntegerKey
{
    Task Register(List<string> categories);

    /// <summary>
    /// Of <paramref name="categories"/>, those known already and the new ones that fit under Pipeline:MaxCategories,
    /// which are registered (and saved) before the call returns; the rest are refused.
    /// </summary>
    Task<List<string>> Admit(List<string> categories);

    Task<List<string>> List();

    Task<bool> Contains(string category);
}

/// <summary>
/// A Random Cut Forest detector over the reviews of the partitions that feed it (partition p feeds shard
/// p mod Pipeline:AnomalyShards). Keyed by shard number.
/// </summary>
public interface IAnomalyGrain : IGrainWithIntegerKey
{
    /// <summary>Scores, grades and learns the observations in order; rows of <paramref name="range"/> already applied are not learnt again.</summary>
    Task<DeliveryReceipt> Observe(LogRange range, List<AnomalyObservation> observations);

    Task<AnomalyStatus> GetStatus(int recentAlerts);

    /// <summary>The silo this activation runs on (S{ip}:{port}:{generation}).</summary>
    Task<string> GetHost();

    /// <summary>Migrates (saving the forest first) when running elsewhere than <paramref name="silo"/>; returns whether it moves.</summary>
    Task<bool> MoveIfMisplaced(string silo);

    /// <summary>The shard's windows (Pipeline:WindowSize, by scoring time) starting at or after <paramref name="sinceStartMs"/>, oldest first.</summary>
    Task<List<AnomalyGradeWindowRecord>> GetGrades(long sinceStartMs);

    /// <summary>The scored-review delivery of the silo this shard runs on (the shards are what feed it), per destination.</summary>
    Task<List<DeliveryStatusRecord>> GetDeliveryStatus();
}

/// <summary>Exact totals and distinct counts per window, merged from the partitions. Keyed by "global".</summary>
public interface ICountingGrain : IGrainWithStringKey
{
    /// <summary>Adds a partition's counts for the log rows in <paramref name="range"/>; rows already applied are not counted again.</summary>
    Task<DeliveryReceipt> Add(LogRange range, CountDelta delta);

    Task<CountReport> GetReport(int lastWindows);
}

/// <summary>A category's bounded, persisted queue of reviews that need attention. Keyed by category.</summary>
public interface IPriorityQueueGrain : IGrainWithStringKey
{
    /// <summary>Queues a partition's reviews for the log rows in <paramref name="range"/>; rows already applied are not queued again.</summary>
    Task<DeliveryReceipt> Enqueue(LogRange range, List<PriorityReviewRecord> reviews);

    Task<List<PriorityReviewRecord>> List(int limit);

    Task<bool> Acknowledge(string reviewId);
}

/// <summary>The bounded dead-letter store: the newest refused records with their reasons. Keyed by 0.</summary>
public interface IDeadLetterGrain : IGrainWithIntegerKey
{
    /// <summary>Stores the records not already kept (by <see cref="DeadLetterRecord.Id"/>) and returns how many those were.</summary>
    Task<int> Add(List<DeadLetterRecord> deadLetters);

    Task<DeadLetterPage> List(int limit);
}

/// <summary>
/// The alert rules over closed windows, the alerts they raise and their webhooks. One for the cluster, keyed by
/// <see cref="StreamNames.AllKey"/>: it subscribes implicitly to the "metrics" stream of that key.
/// </summary>
public interface IAlertGrain : IGrainWithStringKey
{
    /// <summary>Activates the grain (silos call it at start) so that silence is watched even when no review arrives.</summary>
    Task Watch();

    Task<AlertList> List(int limit);

    Task<List<AlertRuleRecord>> GetRules();

    /// <summary>Replaces the rules (kept in the grain's state from then on); returns them.</summary>
    /// <exception cref="ArgumentException">A rule is invalid; the message names each rule and field.</exception>
    Task<List<AlertRuleRecord>> PutRules(List<AlertRuleRecord> rules);

    /// <summary>Judges the windows due now and sends due notifications (normally the timers do it).</summary>
    Task Evaluate();
}
