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
    [PersistentState("category-directory", StorageNames.Default)] IPersistentState<CategoryDirectoryState> state,
    Microsoft.Extensions.Options.IOptions<PipelineOptions> options) : Grain, ICategoryDirectoryGrain
{
    private readonly int _maxCategories = options.Value.MaxCategories;

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

    public async Task<List<string>> Admit(List<string> categories)
    {
        var categorySet = state.State.Categories;
        var admitted = new List<string>(categories.Count);
        foreach (var category in categories)
        {
            if (categorySet.Contains(category))
            {
                admitted.Add(category);
            }
            else if (categorySet.Count < _maxCategories)
            {
                categorySet.Add(category);
                _unsaved = true;
                admitted.Add(category);
            }
        }
        if (_unsaved)
        {
            // Saved before the partitions accept reviews of the new categories, so that a restart keeps the count.
            await state.WriteStateAsync();
            _unsaved = false;
        }
        return admitted;
    }

    public Task<List<string>> List() => Task.FromResult(state.State.Categories.ToList());

    public Task<bool> Contains(string category) => Task.FromResult(state.State.Categories.Contains(category));
}
