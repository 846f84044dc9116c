namespace ReviewOrleans.Sentiment;

/// <summary>A model or its manifest cannot be used; the message names the file and the problem.</summary>
public sealed class SentimentModelException : Exception
{
    /// <summary>Creates the exception with a message naming the problem.</summary>
    public SentimentModelException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message naming the problem and the underlying cause.</summary>
    public SentimentModelException(string message, Exception inner) : base(message, inner)
    {
    }
}
