using ReviewOrleans.Sentiment.Training;

namespace ReviewOrleans.Sentiment.Tests;

/// <summary>A fact that needs the read-only shared/data folder beside the repository; skipped, with the reason, where it is absent.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute()
    {
        if (SharedDataLocator.Find() is null)
        {
            Skip = $"shared/data not found beside the repository (searched up from {AppContext.BaseDirectory})";
        }
    }
}
