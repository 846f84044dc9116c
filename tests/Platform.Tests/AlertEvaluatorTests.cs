using System.Text;
using ReviewOrleans.Alerting;

namespace ReviewOrleans.Platform.Tests;

/// <summary>The alert rules' judgment of closed windows, window by window, with no cluster.</summary>
public sealed class AlertEvaluatorTests
{
    private const long Window = 5_000;

    private static AlertEvaluator Evaluator(params AlertRule[] rules)
    {
        var evaluator = new AlertEvaluator(new AlertEvaluatorState(), nowMs: 0);
        Assert.Empty(evaluator.ReplaceRules(rules, 0));
        return evaluator;
    }

    private static WindowFacts Facts(int index, double? grade = null, params (string Category, long Reviews, long Negative)[] categories) =>
        new(index * Window, (index + 1) * Window, grade, categories.ToDictionary(c => c.Category, c => new CategoryWindowCounts(c.Reviews, c.Negative)));

    private static long EndOf(int index) => (index + 1) * Window + 3_000;

    [Fact]
    public void AnomalyGrade_FiresOnceAfterKWindowsInARow_ResolvesAtTheFirstWindowBelow()
    {
        var evaluator = Evaluator(new AlertRule { Name = "grade", Kind = AlertKinds.AnomalyGrade, Threshold = 0.5, Windows = 2 });
        var grades = new double?[] { 0.9, 0.1, 0.6, 0.7, 0.8, 1.0, null, 0.9, 0.2, 0.0 };
        var changes = grades.Select((g, i) => evaluator.ObserveWindow(Facts(i, g), EndOf(i))).ToList();

        // 0.9 alone is one window; 0.6, 0.7 is the run of two (fires in window 3); nothing more while it holds, a
        // window without points neither holds nor breaks; 0.2 resolves.
        Assert.Equal([0, 0, 0, 1, 0, 0, 0, 0, 1, 0], changes.Select(c => c.Count));
        var fired = Assert.Single(changes[3]);
        Assert.Equal(AlertEvents.Fired, fired.Event);
        Assert.Equal("grade//10000", fired.Alert.Id);
        Assert.Equal(0.7, fired.Alert.Value);
        Assert.Equal(2 * Window, fired.Alert.WindowStartMs);
        var resolved = Assert.Single(changes[8]);
        Assert.Equal((AlertEvents.Resolved, "grade//10000", EndOf(8)), (resolved.Event, resolved.Alert.Id, resolved.Alert.ResolvedMs!.Value));
        Assert.Empty(evaluator.State.Firing);
    }

    [Fact]
    public void NegativeShare_EachCategoryOnItsOwn_SmallWindowsNeitherHoldNorBreak()
    {
        var evaluator = Evaluator(new AlertRule { Name = "neg", Kind = AlertKinds.NegativeShare, Threshold = 0.5, Windows = 2, MinReviews = 10 });

        Assert.Empty(evaluator.ObserveWindow(Facts(0, null, ("Kitchen", 20, 15), ("Books", 20, 2)), EndOf(0)));
        Assert.Empty(evaluator.ObserveWindow(Facts(1, null, ("Kitchen", 4, 4), ("Books", 20, 19)), EndOf(1))); // 4 reviews: not judged
        var fired = Assert.Single(evaluator.ObserveWindow(Facts(2, null, ("Kitchen", 30, 20), ("Books", 20, 1)), EndOf(2)));
        Assert.Equal(("Kitchen", "neg/Kitchen/0"), (fired.Alert.Category, fired.Alert.Id));
        Assert.Equal(20.0 / 30, fired.Alert.Value, 9);
        // Books' run of one was broken; Kitchen holds on, quietly, then a window of exactly the threshold clears it.
        Assert.Empty(evaluator.ObserveWindow(Facts(3, null, ("Kitchen", 30, 25)), EndOf(3)));
        var resolved = Assert.Single(evaluator.ObserveWindow(Facts(4, null, ("Kitchen", 30, 15)), EndOf(4)));
        Assert.Equal((AlertEvents.Resolved, "Kitchen"), (resolved.Event, resolved.Alert.Category));
    }

    [Fact]
    public void VolumeDrop_BelowThePercentOfTheHoursMean_JudgedOnlyWithHistory()
    {
        var evaluator = Evaluator(new AlertRule { Name = "drop", Kind = AlertKinds.VolumeDrop, Category = "All", Threshold = 50, Windows = 2, MinReviews = 100 });
        var index = 0;
        // A low window before the minimum history is not a drop.
        Assert.Empty(evaluator.ObserveWindow(Facts(index++, null, ("All", 1, 0)), EndOf(index)));
        for (; index < AlertEvaluator.MinVolumeHistoryWindows + 1; index++)
        {
            Assert.Empty(evaluator.ObserveWindow(Facts(index, null, ("All", 100, 0)), EndOf(index)));
        }
        Assert.Empty(evaluator.ObserveWindow(Facts(index++, null, ("All", 40, 0)), EndOf(index)));
        // No reviews at all is the deepest drop: the category is judged although it is absent from the window.
        var fired = Assert.Single(evaluator.ObserveWindow(Facts(index, null), EndOf(index)));
        Assert.Equal(("drop/All/" + ((index - 1) * Window), 0.0), (fired.Alert.Id, fired.Alert.Value));
        index++;
        var resolved = Assert.Single(evaluator.ObserveWindow(Facts(index, null, ("All", 90, 0)), EndOf(index)));
        Assert.Equal(AlertEvents.Resolved, resolved.Event);
    }

    [Fact]
    public void NoReviews_FiresAfterTheSilence_ResolvesWithTheNextReviewedWindow()
    {
        var evaluator = Evaluator(new AlertRule { Name = "silence", Kind = AlertKinds.NoReviews, SilenceSeconds = 30 });

        Assert.Empty(evaluator.CheckSilence(29_000));
        var fired = Assert.Single(evaluator.CheckSilence(30_000));
        Assert.Equal((AlertEvents.Fired, 30.0, 30.0), (fired.Event, fired.Alert.Value, fired.Alert.Threshold));
        Assert.Empty(evaluator.CheckSilence(60_000));
        var resolved = Assert.Single(evaluator.ObserveWindow(Facts(10, null, ("Books", 1, 0)), EndOf(10)));
        Assert.Equal(AlertEvents.Resolved, resolved.Event);
    }

    [Fact]
    public void ReplaceRules_AlertsOfARemovedRuleResolve_BadRulesAreNamed()
    {
        var evaluator = Evaluator(new AlertRule { Name = "grade", Kind = AlertKinds.AnomalyGrade, Threshold = 0.5 });
        Assert.Single(evaluator.ObserveWindow(Facts(0, 0.9), EndOf(0)));

        var resolved = Assert.Single(evaluator.ReplaceRules([new AlertRule { Name = "other", Kind = AlertKinds.NoReviews, SilenceSeconds = 60 }], EndOf(1)));
        Assert.Equal(("grade", AlertEvents.Resolved), (resolved.Alert.Rule, resolved.Event));

        var ex = Assert.Throws<ArgumentException>(() => evaluator.ReplaceRules([
            new AlertRule { Name = "a", Kind = AlertKinds.NegativeShare, Threshold = 1.5 },
            new AlertRule { Name = "a", Kind = "sometimes" },
        ], 0));
        Assert.Contains("rules[0] ('a').threshold: must be between 0 and 1, got 1.5", ex.Message);
        Assert.Contains("rules[1] ('a').name: is used by an earlier rule", ex.Message);
        Assert.Contains("rules[1] ('a').kind: must be one of anomaly_grade, negative_share, volume_drop, no_reviews, got 'sometimes'", ex.Message);
    }

    [Fact]
    public void State_RoundTripsThroughJson_AndAWindowJudgedIsNotJudgedAgain()
    {
        var evaluator = Evaluator(new AlertRule { Name = "grade", Kind = AlertKinds.AnomalyGrade, Threshold = 0.5, Windows = 1 });
        Assert.Single(evaluator.ObserveWindow(Facts(0, 0.9), EndOf(0)));

        var json = System.Text.Json.JsonSerializer.Serialize(evaluator.State);
        var restored = new AlertEvaluator(System.Text.Json.JsonSerializer.Deserialize<AlertEvaluatorState>(json)!, EndOf(1));

        Assert.Empty(restored.ObserveWindow(Facts(0, 0.1), EndOf(1))); // already judged
        Assert.Empty(restored.ObserveWindow(Facts(1, 0.8), EndOf(1))); // still firing: not told again
        Assert.Equal(AlertEvents.Resolved, Assert.Single(restored.ObserveWindow(Facts(2, 0.1), EndOf(2))).Event);
    }
}

/// <summary>Webhook signatures against the HMAC-SHA256 reference, and the outbox's backoff and dead letters.</summary>
public sealed class WebhookOutboxTests
{
    [Fact]
    public void Signature_IsHmacSha256OfTheBody_Rfc4231TestCase2()
    {
        var body = Encoding.ASCII.GetBytes("what do ya want for nothing?");

        var signature = WebhookSignature.Compute(body, "Jefe");

        Assert.Equal("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", signature);
        Assert.True(WebhookSignature.Verify(body, "Jefe", signature));
        Assert.False(WebhookSignature.Verify(body, "Jeff", signature));
        Assert.False(WebhookSignature.Verify(body, "Jefe", null));
    }

    [Fact]
    public void Outbox_RetriesWithDoublingBackoff_DeadLettersAfterMaxAttempts_QueuesAnEventOnce()
    {
        var target = new WebhookTarget { Name = "ops", Url = "http://127.0.0.1:1/", Secret = new string('s', 16), MaxAttempts = 4, InitialBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(3) };
        var outbox = new WebhookOutbox();
        var alert = new Alert { Id = "grade//0", Rule = "grade", Kind = AlertKinds.AnomalyGrade, FiredMs = 1_000 };

        var delivery = Assert.Single(outbox.Enqueue(new AlertChange(alert, AlertEvents.Fired), [target], 1_000));
        Assert.Empty(outbox.Enqueue(new AlertChange(alert, AlertEvents.Fired), [target], 1_500));
        Assert.Empty(outbox.Enqueue(new AlertChange(alert, AlertEvents.Fired), [new WebhookTarget { Name = "x", Rules = ["other"] }], 1_500));

        var now = 1_000L;
        var waits = new List<long>();
        while (true)
        {
            Assert.Same(delivery, Assert.Single(outbox.Due(now)));
            if (outbox.Record(delivery, target, "HTTP 500 Internal Server Error", now))
            {
                break;
            }
            waits.Add(delivery.NextAttemptMs - now);
            Assert.Empty(outbox.Due(delivery.NextAttemptMs - 1));
            now = delivery.NextAttemptMs;
        }
        Assert.Equal([1_000, 2_000, 3_000], waits); // doubled, capped at MaxBackoff
        Assert.Equal((WebhookDelivery.DeadLettered, 4, "HTTP 500 Internal Server Error"), (delivery.State, delivery.Attempts, delivery.LastError));
        Assert.Empty(outbox.Due(long.MaxValue));
        Assert.Contains("\"event\":\"alert.fired\"", delivery.Body, StringComparison.Ordinal);
        Assert.Contains("\"id\":\"grade//0\"", delivery.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void WebhookTargets_BadSettingsAreNamed()
    {
        var errors = WebhookTarget.Check([new WebhookTarget { Name = "a", Url = "ftp://x", Secret = "short", MaxAttempts = 0 }]);

        Assert.Contains("Alerts:Webhooks:0:Url must be an absolute http or https URL, got 'ftp://x'", errors);
        Assert.Contains(errors, e => e.StartsWith("Alerts:Webhooks:0:Secret must be at least 16 characters", StringComparison.Ordinal));
        Assert.Contains("Alerts:Webhooks:0:MaxAttempts must be between 1 and 100, got 0", errors);
    }
}
