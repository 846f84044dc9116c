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

/// <summary>
/// An oldest-first list of at most a given number of items with distinct keys: adding an item whose key is present
/// does nothing, so a sender's re-send after a failed call is not kept twice. The working data of the priority
/// queues (by review id) and the dead-letter store (by record id).
/// </summary>
internal sealed class BoundedKeyedList<T, TKey>(int capacity, Func<T, TKey> keyOf) where TKey : notnull
{
    private readonly List<T> _items = [];
    private readonly HashSet<TKey> _keys = [];

    public IReadOnlyList<T> Items => _items;

    /// <summary>Restores persisted items as they are, oldest first.</summary>
    public void Load(IEnumerable<T> items)
    {
        foreach (var item in items)
        {
            _items.Add(item);
            _keys.Add(keyOf(item));
        }
    }

    /// <summary>Adds the item unless its key is present; false when it was.</summary>
    public bool TryAdd(T item)
    {
        if (!_keys.Add(keyOf(item)))
        {
            return false;
        }
        _items.Add(item);
        return true;
    }

    /// <summary>Drops the oldest items beyond the capacity; returns how many were dropped.</summary>
    public int TrimOldest()
    {
        var excess = _items.Count - capacity;
        if (excess <= 0)
        {
            return 0;
        }
        for (var i = 0; i < excess; i++)
        {
            _keys.Remove(keyOf(_items[i]));
        }
        _items.RemoveRange(0, excess);
        return excess;
    }

    /// <summary>Removes the item with <paramref name="key"/>; false when there was none.</summary>
    public bool Remove(TKey key)
    {
        if (!_keys.Remove(key))
        {
            return false;
        }
        var comparer = EqualityComparer<TKey>.Default;
        _items.RemoveAll(item => comparer.Equals(keyOf(item), key));
        return true;
    }
}
