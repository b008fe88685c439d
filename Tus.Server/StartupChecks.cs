namespace Tus.Server;

/// <summary>What the server checks itself before it builds anything, so that it can refuse to start in one clear line.</summary>
internal static class StartupChecks
{
    /// <summary>
    /// Creates the upload directory when missing and writes and deletes a file in it.
    /// </summary>
    /// <returns><see langword="null"/> when uploads can be stored there, else the one line that says why not.</returns>
    public static string? UploadDirectoryProblem(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, ".tus-write-probe-" + Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return $"the upload directory {directory} cannot be created or written ({exception.GetType().Name}: {exception.Message}).";
        }
    }
}
