using System.Diagnostics.Metrics;

namespace ReviewOrleans.Delivery;

/// <summary>The delivery's instruments, on the platform's meter ("ReviewOrleans"), which the silo exports.</summary>
internal static class DeliveryTelemetry
{
    private static readonly Meter Meter = new("ReviewOrleans");

    public static readonly Counter<long> Records = Meter.CreateCounter<long>("revieworleans.delivery.records", "{review}",
        "Scored reviews a destination took (outcome=delivered) or that went to the errors store (outcome=dead_lettered)");

    public static readonly Counter<long> Failures = Meter.CreateCounter<long>("revieworleans.delivery.failures", "{write}",
        "Writes to a destination that failed (each is retried or dead-lettered)");

    public static readonly Histogram<double> Lag = Meter.CreateHistogram<double>("revieworleans.delivery.lag", "ms",
        "Ingest to delivered, per record");

    public static KeyValuePair<string, object?> Destination(string name) => new("destination", name);
}
