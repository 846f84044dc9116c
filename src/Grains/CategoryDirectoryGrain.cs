using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Grains;

/// <summary>Persisted state of the <see cref="CategoryDirectoryGrain"/>.</summary>
[GenerateSerializer, Alias("category-directory-state.v1")]
public sealed class CategoryDirectoryState
{
    [Id(0)] public SortedSet<string> Categories { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The categories seen so far, for ListCategories and for fanning queries out to category grains.</summary>
[GrainType("category-directory")]
public sealed class CategoryDirectoryGrain(
    [PersistentState("category-directory", StorageNames.Default)] IPersistentState<CategoryDirectoryState> state) : Grain, ICategoryDirectoryGrain
{
    public async Task Register(List<string> categories)
    {
        var added = false;
        foreach (var category in categories)
        {
            added |= state.State.Categories.Add(category);
        }
        if (added)
        {
            await state.WriteStateAsync();
        }
    }

    public Task<List<string>> List() => Task.FromResult(state.State.Categories.ToList());
}
