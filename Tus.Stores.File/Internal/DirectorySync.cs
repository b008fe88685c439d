using System.Runtime.InteropServices;

namespace Tus.Stores.Internal;

/// <summary>
/// Flushes a directory's entries to the disk. An fsync of a file makes its bytes durable but not its name: after a
/// power loss a file created or renamed just before can be missing, or still have its old content under that name,
/// unless the directory holding it was flushed too.
/// </summary>
internal static partial class DirectorySync
{
    private const int OReadOnly = 0x0;
    private const int ODirectory = 0x10000;
    private const int OCloseOnExec = 0x80000;
    private const int EINTR = 4;
    private const int EINVAL = 22;

    /// <summary>Flushes <paramref name="directory"/>'s entries (Linux; elsewhere a no-op, as .NET offers no way to).</summary>
    /// <exception cref="IOException">The directory could not be opened or flushed.</exception>
    public static void Flush(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var descriptor = Open(directory, OReadOnly | ODirectory | OCloseOnExec);
        if (descriptor < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Could not open the directory '{directory}' to flush it (errno {errno}).", errno);
        }

        try
        {
            while (FileSync(descriptor) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EINVAL)
                {
                    return; // a file system that cannot sync directories (some network and special ones): nothing to do
                }

                if (errno != EINTR)
                {
                    throw new IOException($"Could not flush the directory '{directory}' (errno {errno}).", errno);
                }
            }
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FileSync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);
}
