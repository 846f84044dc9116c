namespace ReviewOrleans.Alerting;

/// <summary>A category's reviews in one closed window: all of them, and those predicted at 1-2 stars.</summary>
public readonly record struct CategoryWindowCounts(long Reviews, long Negative);

/// <summary>
/// What the rules judge about one closed window: the highest anomaly grade across the forests (null when no review
/// was scored in it) and each category's counts (categories without reviews absent).
/// </summary>
public sealed record WindowFacts(long StartMs, long EndMs, double? MaxAnomalyGrade, IReadOnlyDictionary<string, CategoryWindowCounts> Categories);

/// <summary>A rule's run of windows in a row where its condition held, for one category (or the whole stream).</summary>
public sealed class AlertRun
{
    public int Windows { get; set; }
    public long FirstWindowStartMs { get; set; }
}

/// <summary>What the alert grain persists: the rules, the runs under way, the alerts firing and where evaluation is.</summary>
public sealed class AlertEvaluatorState
{
    public List<AlertRule> Rules { get; set; } = [];
    public Dictionary<string, AlertRun> Runs { get; set; } = [];
    public Dictionary<string, Alert> Firing { get; set; } = [];
    /// <summary>The start of the newest window judged; older ones arriving later are not judged again.</summary>
    public long LastWindowStartMs { get; set; } = long.MinValue;
    /// <summary>The end of the newest window that had a review (or when watching began).</summary>
    public long LastReviewMs { get; set; }
}

/// <summary>
/// Judges each closed window against the rules and says which alerts fire and which resolve. An alert fires once
/// when its condition has held for the rule's K windows in a row, and resolves at the first window where it does not
/// hold; while it holds nothing more is said, so that receivers are told once.
/// </summary>
public sealed class AlertEvaluator
{
    /// <summary>Windows of history a category needs before a volume drop is judged (one minute at 5 s windows).</summary>
    public const int MinVolumeHistoryWindows = 12;

    private readonly Dictionary<string, VolumeHistory> _volumes = new(StringComparer.Ordinal);

    public AlertEvaluator(AlertEvaluatorState state, long nowMs)
    {
        State = state;
        if (State.LastReviewMs == 0)
        {
            // Silence counts from when watching began: a pipeline that never receives a review is silent too.
            State.LastReviewMs = nowMs;
        }
    }

    public AlertEvaluatorState State { get; }

    /// <summary>Categories whose last hour of volume is kept (for volume_drop rules).</summary>
    public int TrackedVolumeCategories => _volumes.Count;

    /// <summary>Judges one closed window (windows must come oldest first; one already judged is ignored).</summary>
    public List<AlertChange> ObserveWindow(WindowFacts facts, long nowMs)
    {
        var changes = new List<AlertChange>();
        if (facts.StartMs <= State.LastWindowStartMs)
        {
            return changes;
        }
        State.LastWindowStartMs = facts.StartMs;
        if (facts.Categories.Values.Any(c => c.Reviews > 0))
        {
            State.LastReviewMs = Math.Max(State.LastReviewMs, facts.EndMs);
        }
        foreach (var rule in State.Rules.Where(r => !r.Disabled))
        {
            switch (rule.Kind)
            {
                case AlertKinds.AnomalyGrade:
                    Judge(rule, "", facts.MaxAnomalyGrade is { } grade ? grade >= rule.Threshold : null, facts.MaxAnomalyGrade ?? 0,
                        g => $"anomaly grade {g:0.00} at or above {rule.Threshold:0.00} for {Plural(rule.Windows, "window")} in a row", facts.StartMs, nowMs, changes);
                    break;
                case AlertKinds.NegativeShare:
                    foreach (var category in Subjects(rule, facts.Categories.Keys))
                    {
                        var counts = facts.Categories.GetValueOrDefault(category);
                        var share = counts.Reviews == 0 ? 0 : (double)counts.Negative / counts.Reviews;
                        bool? holds = counts.Reviews == 0 || counts.Reviews < rule.MinReviews ? null : share > rule.Threshold;
                        Judge(rule, category, holds, share,
                            s => $"{category}: {s:P0} of reviews negative (above {rule.Threshold:P0}) for {Plural(rule.Windows, "window")} in a row", facts.StartMs, nowMs, changes);
                    }
                    break;
                case AlertKinds.VolumeDrop:
                    foreach (var category in Subjects(rule, facts.Categories.Keys.Concat(_volumes.Keys)))
                    {
                        var count = facts.Categories.GetValueOrDefault(category).Reviews;
                        var history = _volumes.GetValueOrDefault(category);
                        // Too little history to compare with is not a drop: it breaks a run and resolves a firing alert.
                        var judged = history is not null && history.Windows >= MinVolumeHistoryWindows && history.Reviews >= Math.Max(1, rule.MinReviews);
                        var percent = judged ? 100.0 * count / history!.Mean : 100;
                        Judge(rule, category, judged && percent < rule.Threshold, percent,
                            p => $"{category}: {count} reviews in a window, {p:0}% of its last-hour mean of {history?.Mean ?? 0:0.#} (below {rule.Threshold:0}%) for {Plural(rule.Windows, "window")} in a row",
                            facts.StartMs, nowMs, changes);
                    }
                    break;
            }
        }
        RecordVolume(facts);
        changes.AddRange(CheckSilence(nowMs));
        return changes;
    }

    /// <summary>Judges the no_reviews rules at <paramref name="nowMs"/>; called between windows as well.</summary>
    public List<AlertChange> CheckSilence(long nowMs)
    {
        var changes = new List<AlertChange>();
        var silentSeconds = Math.Max(0, (nowMs - State.LastReviewMs) / 1000.0);
        foreach (var rule in State.Rules.Where(r => !r.Disabled && r.Kind == AlertKinds.NoReviews))
        {
            var key = Key(rule, "");
            var holds = silentSeconds >= rule.SilenceSeconds;
            if (holds && !State.Firing.ContainsKey(key))
            {
                Fire(rule, "", key, State.LastReviewMs, silentSeconds, $"no reviews for {silentSeconds:0} s (at most {rule.SilenceSeconds} s allowed)", nowMs, changes);
            }
            else if (!holds)
            {
                Resolve(key, nowMs, changes);
            }
        }
        return changes;
    }

    /// <summary>Puts <paramref name="rules"/> in force; alerts and runs of rules removed, disabled or changed in kind or category end.</summary>
    /// <exception cref="ArgumentException">A rule is invalid (see <see cref="AlertRule.Check"/>).</exception>
    public List<AlertChange> ReplaceRules(IReadOnlyList<AlertRule> rules, long nowMs)
    {
        var errors = AlertRule.Check(rules);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(rules));
        }
        var kept = rules.Where(r => !r.Disabled).ToDictionary(r => r.Name, StringComparer.Ordinal);
        bool Keeps(string ruleName, string kind, string category) =>
            kept.TryGetValue(ruleName, out var rule) && rule.Kind == kind
            && (!AlertKinds.IsPerCategory(kind) || rule.Category == AlertRule.EachCategory || rule.Category == category);
        var changes = new List<AlertChange>();
        foreach (var (key, alert) in State.Firing.ToList())
        {
            if (!Keeps(alert.Rule, alert.Kind, alert.Category))
            {
                Resolve(key, nowMs, changes);
            }
        }
        var oldKinds = State.Rules.ToDictionary(r => r.Name, r => r.Kind, StringComparer.Ordinal);
        foreach (var key in State.Runs.Keys.ToList())
        {
            var (ruleName, category) = SplitKey(key);
            if (!oldKinds.TryGetValue(ruleName, out var kind) || !Keeps(ruleName, kind, category))
            {
                State.Runs.Remove(key);
            }
        }
        State.Rules = [.. rules.Select(r => r.Clone())];
        return changes;
    }

    private IEnumerable<string> Subjects(AlertRule rule, IEnumerable<string> seen)
    {
        if (rule.Category != AlertRule.EachCategory)
        {
            return [rule.Category];
        }
        // Categories with a run or an alert of this rule are judged even in a window without their reviews.
        var prefix = rule.Name + KeySeparator;
        return seen.Concat(State.Runs.Keys.Concat(State.Firing.Keys).Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Select(k => SplitKey(k).Category))
            .Distinct(StringComparer.Ordinal).ToList();
    }

    private void Judge(AlertRule rule, string category, bool? holds, double value, Func<double, string> summary, long windowStartMs, long nowMs, List<AlertChange> changes)
    {
        if (holds is null)
        {
            return;
        }
        var key = Key(rule, category);
        if (holds.Value)
        {
            if (!State.Runs.TryGetValue(key, out var run))
            {
                State.Runs[key] = run = new AlertRun { FirstWindowStartMs = windowStartMs };
            }
            run.Windows++;
            if (run.Windows >= rule.Windows && !State.Firing.ContainsKey(key))
            {
                Fire(rule, category, key, run.FirstWindowStartMs, value, summary(value), nowMs, changes);
            }
            return;
        }
        State.Runs.Remove(key);
        Resolve(key, nowMs, changes);
    }

    private void Fire(AlertRule rule, string category, string key, long windowStartMs, double value, string summary, long nowMs, List<AlertChange> changes)
    {
        var alert = new Alert
        {
            Id = $"{rule.Name}/{category}/{windowStartMs}",
            Rule = rule.Name,
            Kind = rule.Kind,
            Category = category,
            Summary = summary,
            Value = value,
            Threshold = rule.Kind == AlertKinds.NoReviews ? rule.SilenceSeconds : rule.Threshold,
            FiredMs = nowMs,
            WindowStartMs = windowStartMs,
        };
        State.Firing[key] = alert;
        changes.Add(new AlertChange(alert, AlertEvents.Fired));
    }

    private void Resolve(string key, long nowMs, List<AlertChange> changes)
    {
        if (State.Firing.Remove(key, out var alert))
        {
            alert.ResolvedMs = nowMs;
            changes.Add(new AlertChange(alert, AlertEvents.Resolved));
        }
    }

    private void RecordVolume(WindowFacts facts)
    {
        var volumeRules = State.Rules.Where(r => !r.Disabled && r.Kind == AlertKinds.VolumeDrop).ToList();
        if (volumeRules.Count == 0)
        {
            _volumes.Clear();
            return;
        }
        var everyCategory = volumeRules.Any(r => r.Category == AlertRule.EachCategory);
        var named = volumeRules.Select(r => r.Category).ToHashSet(StringComparer.Ordinal);
        foreach (var category in facts.Categories.Keys.Where(c => everyCategory || named.Contains(c)))
        {
            if (!_volumes.ContainsKey(category))
            {
                _volumes[category] = new VolumeHistory();
            }
        }
        foreach (var (category, history) in _volumes.ToList())
        {
            history.Add(facts.StartMs, facts.Categories.GetValueOrDefault(category).Reviews);
            // A category quiet for an hour is forgotten (it comes back with its next review): the cap on categories
            // bounds this map, and this keeps it to those with recent traffic.
            if (history.Reviews == 0 && !volumeRules.Any(r => State.Firing.ContainsKey(Key(r, category))))
            {
                _volumes.Remove(category);
            }
        }
    }

    private const char KeySeparator = '\u001f';

    private static string Key(AlertRule rule, string category) => rule.Name + KeySeparator + category;

    private static (string Rule, string Category) SplitKey(string key)
    {
        var at = key.IndexOf(KeySeparator);
        return (key[..at], key[(at + 1)..]);
    }

    private static string Plural(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    /// <summary>
    /// A category's reviews per window over the last hour, summed per minute: 60 buckets instead of one slot per
    /// window (720 at 5 s) keep ten thousand categories at a few megabytes; the hour's edge is exact to the minute.
    /// </summary>
    private sealed class VolumeHistory
    {
        private const int Buckets = 60;
        private const long BucketMs = 60_000;
        private readonly long[] _reviews = new long[Buckets];
        private readonly int[] _windows = new int[Buckets];
        private readonly long[] _minute = new long[Buckets];

        public long Reviews { get; private set; }

        public int Windows { get; private set; }

        public double Mean => Windows == 0 ? 0 : (double)Reviews / Windows;

        public void Add(long windowStartMs, long reviews)
        {
            var minute = Math.DivRem(windowStartMs, BucketMs).Quotient;
            // Buckets older than an hour are emptied as the clock passes them.
            for (var i = 0; i < Buckets; i++)
            {
                if (_windows[i] > 0 && _minute[i] <= minute - Buckets)
                {
                    Reviews -= _reviews[i];
                    Windows -= _windows[i];
                    _reviews[i] = 0;
                    _windows[i] = 0;
                }
            }
            var slot = (int)(((minute % Buckets) + Buckets) % Buckets);
            _minute[slot] = minute;
            _reviews[slot] += reviews;
            _windows[slot]++;
            Reviews += reviews;
            Windows++;
        }
    }
}
