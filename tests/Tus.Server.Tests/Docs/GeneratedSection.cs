namespace Tus.Server.Tests.Docs;

/// <summary>
/// A part of a Markdown document that is generated from the code, between <c>&lt;!-- {name}:begin --&gt;</c> and
/// <c>&lt;!-- {name}:end --&gt;</c> on lines of their own; everything around it is written by hand and left alone.
/// </summary>
internal static class GeneratedSection
{
    public static string BeginMarker(string name) => $"<!-- {name}:begin -->";

    public static string EndMarker(string name) => $"<!-- {name}:end -->";

    /// <summary>The section's lines between its markers, or <see langword="null"/> when the markers are missing.</summary>
    public static string? Read(string document, string name)
    {
        var lines = SplitLines(document);
        var (begin, end) = Find(lines, name);
        return begin < 0 ? null : string.Join('\n', lines[(begin + 1)..end]);
    }

    /// <summary>The document with the section's content replaced; the markers and the rest stay as they were.</summary>
    public static string Replace(string document, string name, string content)
    {
        var lines = SplitLines(document);
        var (begin, end) = Find(lines, name);
        if (begin < 0)
        {
            throw new InvalidOperationException($"The markers {BeginMarker(name)} and {EndMarker(name)} are missing; add them where the section belongs.");
        }

        var replaced = lines[..(begin + 1)].Concat(SplitLines(content)).Concat(lines[end..]);
        return string.Join('\n', replaced);
    }

    /// <summary>
    /// Where <paramref name="actual"/> first differs from <paramref name="expected"/>, as a line number (within the
    /// section) and both lines; <see langword="null"/> when they are equal.
    /// </summary>
    public static string? FirstDifference(string expected, string actual)
    {
        var want = SplitLines(expected);
        var have = SplitLines(actual);
        for (var i = 0; i < Math.Max(want.Length, have.Length); i++)
        {
            var wanted = i < want.Length ? want[i] : "(nothing: the section should end here)";
            var found = i < have.Length ? have[i] : "(nothing: the section ends early)";
            if (i >= want.Length || i >= have.Length || want[i] != have[i])
            {
                return $"line {i + 1} of the section:\n  expected: {wanted}\n  found:    {found}";
            }
        }

        return null;
    }

    private static string[] SplitLines(string text) => text.ReplaceLineEndings("\n").Split('\n');

    private static (int Begin, int End) Find(string[] lines, string name)
    {
        var begin = Array.FindIndex(lines, l => l.Trim() == BeginMarker(name));
        var end = begin < 0 ? -1 : Array.FindIndex(lines, begin + 1, l => l.Trim() == EndMarker(name));
        return begin < 0 || end < 0 ? (-1, -1) : (begin, end);
    }
}
