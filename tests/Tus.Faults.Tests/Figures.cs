using System.Globalization;

namespace Tus.Faults.Tests;

/// <summary>The fault suite's figures: written to the test output and to standard output, so that CI logs show them.</summary>
internal static class Figures
{
    public static void Print(string line)
    {
        var text = "[faults] " + line;
        TestContext.Current.TestOutputHelper?.WriteLine(text);
        Console.WriteLine(text);
    }

    /// <summary>How many of something to run: the default, or more (or fewer) from an environment variable.</summary>
    public static int Scale(string variable, int fallback) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public static string Directory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "tus-faults-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        return directory;
    }
}
