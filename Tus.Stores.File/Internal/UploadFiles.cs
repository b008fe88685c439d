using System.Collections.ObjectModel;
using Tus.Protocol;

namespace Tus.Stores.Internal;

/// <summary>
/// The files of one upload inside the store directory: <c>{id}</c> holds the data, <c>{id}.info</c> the JSON info,
/// and <c>{id}.info.{random}.tmp</c> an info file being written. Paths are only ever built here, from a validated id.
/// </summary>
internal sealed class UploadFiles
{
    private const string InfoSuffix = ".info";
    private const string TempSuffix = ".tmp";
    private const int MaxInfoFileLength = 16 * 1024 * 1024;

    private static readonly EnumerationOptions FlatListing = new()
    {
        MatchType = MatchType.Simple,
        RecurseSubdirectories = false,
        IgnoreInaccessible = true,
        AttributesToSkip = FileAttributes.Directory,
    };

    // Names Windows maps to devices in every directory, with or without an extension: "NUL.info" is no file there.
    private static readonly HashSet<string> WindowsDeviceNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    };

    private readonly string _directory;

    private UploadFiles(string directory, string id, string dataPath)
    {
        _directory = directory;
        Id = id;
        DataPath = dataPath;
        InfoPath = dataPath + InfoSuffix;
    }

    public string Id { get; }

    public string DataPath { get; }

    public string InfoPath { get; }

    /// <summary>Whether an id, valid as such, cannot name a file portably (a Windows device name).</summary>
    public static bool IsReservedName(string id) => WindowsDeviceNames.Contains(id);

    /// <summary>Resolves the files of <paramref name="id"/> inside <paramref name="directory"/>.</summary>
    /// <param name="directory">The store directory: a full path without a trailing separator.</param>
    /// <param name="id">The upload id.</param>
    /// <param name="paramName">The caller's parameter, for exceptions.</param>
    /// <exception cref="ArgumentException">The id is not a valid upload id, or cannot name a file.</exception>
    public static UploadFiles Resolve(string directory, string id, string paramName)
    {
        UploadId.ThrowIfInvalid(id, paramName);
        if (IsReservedName(id))
        {
            throw new ArgumentException($"'{id}' cannot be stored as a file: it is a device name on Windows.", paramName);
        }

        var dataPath = Path.GetFullPath(Path.Combine(directory, id));
        if (!string.Equals(Path.GetDirectoryName(dataPath), directory, StringComparison.Ordinal))
        {
            // Unreachable with a valid id; kept so that no future change to id rules can make a path leave the directory.
            throw new ArgumentException($"The upload id '{id}' does not resolve to a file inside the store directory.", paramName);
        }

        return new UploadFiles(directory, id, dataPath);
    }

    /// <summary>Lists the ids of every <c>{id}.info</c> file in <paramref name="directory"/>, skipping anything else.</summary>
    public static IEnumerable<string> EnumerateIds(string directory)
    {
        foreach (var path in Directory.EnumerateFiles(directory, "*" + InfoSuffix, FlatListing))
        {
            var name = Path.GetFileName(path);
            if (!name.EndsWith(InfoSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            var id = name[..^InfoSuffix.Length];
            if (UploadId.IsValid(id) && !IsReservedName(id))
            {
                yield return id;
            }
        }
    }

    /// <summary>Describes the files for <see cref="UploadInfo.Storage"/>.</summary>
    public IReadOnlyDictionary<string, string> Storage() => new ReadOnlyDictionary<string, string>(new Dictionary<string, string>(3, StringComparer.Ordinal)
    {
        ["Type"] = "file",
        ["Path"] = DataPath,
        ["InfoPath"] = InfoPath,
    });

    /// <summary>The data file's length, which is the upload's offset; <see langword="null"/> when there is no data file.</summary>
    public long? DataLength()
    {
        var data = new FileInfo(DataPath);
        return data.Exists ? data.Length : null;
    }

    /// <summary>Reads and checks the info file; <see langword="null"/> when there is none.</summary>
    /// <exception cref="InvalidDataException">The info file is corrupt.</exception>
    public UploadInfoDocument? ReadInfo()
    {
        byte[] content;
        try
        {
            // Sharing Delete lets a concurrent atomic replacement of the info file proceed on Windows too.
            using var handle = File.OpenHandle(InfoPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = RandomAccess.GetLength(handle);
            if (length > MaxInfoFileLength)
            {
                throw new InvalidDataException($"The upload info file '{InfoPath}' is corrupt: it is {length} bytes long.");
            }

            content = new byte[length];
            var read = 0;
            while (read < content.Length)
            {
                var count = RandomAccess.Read(handle, content.AsSpan(read), read);
                if (count == 0)
                {
                    break;
                }

                read += count;
            }

            content = read == content.Length ? content : content[..read];
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        return UploadInfoDocument.Parse(content, Id, InfoPath);
    }

    /// <summary>Reads the info file, failing when the upload is missing.</summary>
    /// <exception cref="UploadNotFoundException">The info file or the data file is missing.</exception>
    /// <exception cref="InvalidDataException">The info file is corrupt.</exception>
    public (UploadInfoDocument Document, long Offset) ReadExisting()
    {
        var document = ReadInfo();
        var offset = DataLength();
        if (document is null || offset is null)
        {
            throw new UploadNotFoundException(Id);
        }

        return (document, offset.Value);
    }

    /// <summary>Replaces the info file atomically: writes a temporary file, flushes it, then renames it over the old one
    /// (and with <paramref name="flushToDisk"/> flushes the directory, so that the new name survives a power loss).</summary>
    /// <exception cref="StorageFullException">The disk is full.</exception>
    public void WriteInfo(UploadInfoDocument document, bool flushToDisk)
    {
        var content = document.Serialize();
        var tempPath = $"{InfoPath}.{Guid.NewGuid():N}{TempSuffix}";
        try
        {
            using (var temp = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                temp.Write(content);
                temp.Flush(flushToDisk);
            }

            File.Move(tempPath, InfoPath, overwrite: true);
            if (flushToDisk)
            {
                // The rename, and at creation the data file's new name, are entries of the directory: durable only once it is flushed.
                DirectorySync.Flush(_directory);
            }
        }
        catch (Exception e)
        {
            TryDelete(tempPath);
            if (e is IOException io && StorageErrors.IsDiskFull(io))
            {
                throw StorageErrors.StorageFull(InfoPath, io);
            }

            throw;
        }
    }

    /// <summary>Deletes the info file first (the upload is gone from then on), then the data and any temporary files.</summary>
    public void DeleteAll()
    {
        DeleteIfPresent(InfoPath);
        DeleteIfPresent(DataPath);
        IEnumerable<string> temporaries;
        try
        {
            temporaries = Directory.EnumerateFiles(_directory, Id + InfoSuffix + ".*" + TempSuffix, FlatListing).ToList();
        }
        catch (DirectoryNotFoundException)
        {
            return;
        }

        var prefix = Id + InfoSuffix + ".";
        foreach (var temp in temporaries)
        {
            var name = Path.GetFileName(temp);
            if (name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(TempSuffix, StringComparison.Ordinal))
            {
                DeleteIfPresent(temp);
            }
        }
    }

    private static void DeleteIfPresent(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            // The whole directory is gone, and the file with it.
        }
    }

    /// <summary>Deletes a file, ignoring failure.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temporary file is never read as an upload, a data file without info is no upload,
            // and deleting the upload removes both.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }
}
