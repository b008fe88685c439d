namespace Tus.Stores.Internal;

/// <summary>Recognises the I/O errors that mean the disk (or the user's quota on it) is full.</summary>
internal static class StorageErrors
{
    // On Windows an IOException carries the Win32 error as an HRESULT (0x8007xxxx); on Unix it carries the raw errno.
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027); // ERROR_HANDLE_DISK_FULL (39)
    private const int WindowsDiskFull = unchecked((int)0x80070070); // ERROR_DISK_FULL (112)
    private const int UnixNoSpace = 28; // ENOSPC on Linux, macOS and the BSDs
    private const int LinuxQuotaExceeded = 122; // EDQUOT on Linux
    private const int BsdQuotaExceeded = 69; // EDQUOT on macOS and the BSDs

    public static bool IsDiskFull(IOException exception)
    {
        var code = exception.HResult;
        if (OperatingSystem.IsWindows())
        {
            return code is WindowsDiskFull or WindowsHandleDiskFull;
        }

        if (OperatingSystem.IsLinux())
        {
            return code is UnixNoSpace or LinuxQuotaExceeded;
        }

        return code is UnixNoSpace or BsdQuotaExceeded;
    }

    public static StorageFullException StorageFull(string path, IOException exception) =>
        new($"No space left to write '{path}'.", exception);
}
