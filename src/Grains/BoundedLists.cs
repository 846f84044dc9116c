namespace ReviewOrleans.Grains;

/// <summary>The bounded, oldest-first lists that grain state keeps (history, alerts, queues, dead letters).</summary>
internal static class BoundedLists
{
    /// <summary>Drops the oldest items (at the front) beyond <paramref name="capacity"/>; returns how many were dropped.</summary>
    public static int KeepNewest<T>(this List<T> items, int capacity)
    {
        var excess = items.Count - capacity;
        if (excess <= 0)
        {
            return 0;
        }
        items.RemoveRange(0, excess);
        return excess;
    }
}
