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
    private bool _unsaved; // a failed write: the caller retries with categories that are already in the set

    public async Task Register(List<string> categories)
    {
        foreach (var category in categories)
        {
            _unsaved |= state.State.Categories.Add(category);
        }
        if (_unsaved)
        {
            await state.WriteStateAsync();
            _unsaved = false;
        }
    }

    public Task<List<string>> List() => Task.FromResult(state.State.Categories.ToList());

    public Task<bool> Contains(string category) => Task.FromResult(state.State.Categories.Contains(category));
}
