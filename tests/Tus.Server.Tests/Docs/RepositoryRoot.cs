namespace Tus.Server.Tests.Docs;

/// <summary>The clone the tests were built from: the first directory above the test's output holding README.md and Tus.Core/.</summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    public static string File(string relativePath) => System.IO.Path.Combine(Path, relativePath);

    private static string Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (System.IO.File.Exists(System.IO.Path.Combine(directory.FullName, "README.md")) &&
                    Directory.Exists(System.IO.Path.Combine(directory.FullName, "Tus.Core")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new InvalidOperationException(
            $"No directory holding README.md and Tus.Core/ above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}: run the tests from a clone of the repository.");
    }
}
