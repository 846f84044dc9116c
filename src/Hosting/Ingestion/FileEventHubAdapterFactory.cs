using System.Globalization;
using Azure.Messaging.EventHubs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Statistics;
using Orleans.Streaming.EventHubs;
using Orleans.Streams;
using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.Hosting.Ingestion;

/// <summary>
/// The Event Hubs stream provider over archived partition files instead of a hub (<see cref="ReviewEventFiles"/>):
/// Orleans' own receiver cache, checkpointing and redelivery run as they do against Azure, only the events come from
/// disk. For backfills, load tests and the tests of the Event Hubs path (Ingest:EventHubs:FilesPath).
/// </summary>
public sealed class FileEventHubAdapterFactory(
    string name,
    EventHubOptions ehOptions,
    EventHubReceiverOptions receiverOptions,
    EventHubStreamCachePressureOptions cacheOptions,
    StreamCacheEvictionOptions cacheEvictionOptions,
    StreamStatisticOptions statisticOptions,
    IEventHubDataAdapter dataAdapter,
    IServiceProvider serviceProvider,
    ILoggerFactory loggerFactory,
    IEnvironmentStatisticsProvider environmentStatisticsProvider,
    ReviewEventFiles files)
    : EventHubAdapterFactory(name, ehOptions, receiverOptions, cacheOptions, cacheEvictionOptions, statisticOptions, dataAdapter,
        serviceProvider, loggerFactory, environmentStatisticsProvider)
{
    public static FileEventHubAdapterFactory Create(IServiceProvider services, string name, ReviewEventFiles files)
    {
        var factory = ActivatorUtilities.CreateInstance<FileEventHubAdapterFactory>(services, name,
            services.GetOptionsByName<EventHubOptions>(name), services.GetOptionsByName<EventHubReceiverOptions>(name),
            services.GetOptionsByName<EventHubStreamCachePressureOptions>(name), services.GetOptionsByName<StreamCacheEvictionOptions>(name),
            services.GetOptionsByName<StreamStatisticOptions>(name), services.GetRequiredKeyedService<IEventHubDataAdapter>(name), files);
        factory.Init();
        return factory;
    }

    public override void Init()
    {
        EventHubReceiverFactory = (settings, offset, _) => new FileEventHubReceiver(files, settings.Partition, offset, settings.ReceiverOptions.StartFromNow);
        base.Init();
    }

    // No Azure client: nothing is sent, and the partitions are the files.
    protected override void InitEventHubClient()
    {
    }

    protected override Task<string[]> GetPartitionIdsAsync() => Task.FromResult(files.Partitions().ToArray());

    public override Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext) =>
        throw new NotSupportedException("the file-backed review events provider only reads");
}

/// <summary>
/// One partition's events, from an offset on (inclusive, as Event Hubs resumes at a checkpoint). At the end of what is
/// written it reads on after the last line read, so lines a producer appends later arrive as new events.
/// </summary>
internal sealed class FileEventHubReceiver : IEventHubReceiver
{
    private const int MaxEventsPerReceive = 64;

    private readonly ReviewEventFiles _files;
    private readonly string _partition;
    private IEnumerator<FileReviewEvent> _events;
    private long? _nextLine;
    private long _lengthRead;

    public FileEventHubReceiver(ReviewEventFiles files, string partition, string offset, bool startFromNow)
    {
        _files = files;
        _partition = partition;
        _lengthRead = files.Length(partition);
        // "-1": never checkpointed. Latest is what is appended from now on.
        if (offset == "-1" && startFromNow)
        {
            _nextLine = files.Read(partition).LastOrDefault()?.NextLine ?? 1;
            _events = Enumerable.Empty<FileReviewEvent>().GetEnumerator();
        }
        else
        {
            // Until an event is read, a partition that grows is read on from the checkpoint, not from its start.
            _nextLine = offset == "-1" ? null : long.Parse(offset, CultureInfo.InvariantCulture);
            _events = files.Read(partition, offset == "-1" ? null : offset).GetEnumerator();
        }
    }

    [Obsolete("Orleans calls the overload with a cancellation token")]
    public Task<IEnumerable<EventData>> ReceiveAsync(int maxCount, TimeSpan waitTime) => ReceiveAsync(maxCount, waitTime, CancellationToken.None);

    public Task<IEnumerable<EventData>> ReceiveAsync(int maxCount, TimeSpan waitTime, CancellationToken cancellationToken)
    {
        // A few events a call: reading runs on the pulling agent's turn, which must stay short.
        maxCount = Math.Min(maxCount, MaxEventsPerReceive);
        var batch = new List<EventData>(maxCount);
        var now = DateTimeOffset.UtcNow;
        while (batch.Count < maxCount)
        {
            if (!_events.MoveNext())
            {
                // The end of what was written. Once the partition has grown, read on after the last line taken.
                var length = _files.Length(_partition);
                if (length == _lengthRead)
                {
                    break;
                }
                _lengthRead = length;
                _events.Dispose();
                _events = _files.Read(_partition, (_nextLine ?? 1).ToString(CultureInfo.InvariantCulture)).GetEnumerator();
                continue;
            }
            var e = _events.Current;
            _nextLine = e.NextLine;
            batch.Add(EventHubsModelFactory.EventData(new BinaryData(e.Body), sequenceNumber: e.SequenceNumber, offsetString: e.Offset, enqueuedTime: now));
        }
        return Task.FromResult<IEnumerable<EventData>>(batch);
    }

    [Obsolete("Orleans calls the overload with a cancellation token")]
    public Task CloseAsync() => CloseAsync(CancellationToken.None);

    public Task CloseAsync(CancellationToken cancellationToken)
    {
        _events.Dispose();
        return Task.CompletedTask;
    }
}
