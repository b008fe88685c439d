namespace Tus.Stores;

/// <summary>Options of the <see cref="FileStore"/>.</summary>
public sealed class FileStoreOptions
{
    /// <summary>The smallest accepted <see cref="BufferSize"/>: 4 KiB.</summary>
    public const int MinBufferSize = 4 * 1024;

    /// <summary>The largest accepted <see cref="BufferSize"/>: 16 MiB.</summary>
    public const int MaxBufferSize = 16 * 1024 * 1024;

    /// <summary>
    /// The directory that holds the uploads, absolute or relative to the current directory; created when missing.
    /// Default: <c>"data"</c>.
    /// </summary>
    public string Directory { get; set; } = "data";

    /// <summary>
    /// When <see langword="true"/>, written data and info files are flushed to the disk (fsync) before a call returns,
    /// and on Linux so is the directory after an info file is created or replaced (a new upload's names are directory
    /// entries), so an acknowledged upload and offset survive a power loss, at the price of slower writes. When <see langword="false"/>,
    /// the operating system writes them back on its own schedule: a crash of the process loses nothing, a power loss
    /// can. Default: <see langword="false"/>.
    /// </summary>
    public bool FlushToDisk { get; set; }

    /// <summary>
    /// The size in bytes of the buffer used to copy a request body into its file when the body does not write itself
    /// into the file (the engine's body does, with no buffer in between). Between <see cref="MinBufferSize"/> and
    /// <see cref="MaxBufferSize"/>. Default: 131072 (128 KiB).
    /// </summary>
    public int BufferSize { get; set; } = 128 * 1024;

    /// <summary>
    /// When <see langword="true"/> (the default), on Linux, an append that has written
    /// <see cref="DirectWriteThreshold"/> bytes writes the rest of its body around the page cache (<c>O_DIRECT</c>),
    /// in aligned 1 MiB blocks from one native buffer per such append. A large upload then costs the kernel no copy into
    /// the page cache and no write-back afterwards, which is most of the CPU a file upload takes, and its throughput no
    /// longer depends on how fast the kernel writes dirty pages back. The file never holds padding or bytes ahead of
    /// the data, and every byte received is written before an append returns, also when it fails. File systems without
    /// direct I/O (tmpfs, some network and FUSE file systems) are detected and written the ordinary way. Durability is
    /// unchanged: only <see cref="FlushToDisk"/> makes a write survive a power loss.
    /// </summary>
    public bool DirectWrites { get; set; } = true;

    /// <summary>
    /// The bytes an append writes the ordinary way (through the page cache) before switching to direct writes; see
    /// <see cref="DirectWrites"/>. Small uploads and small PATCH requests stay below it and never wait for the device.
    /// Not negative; 0 writes directly from the first byte. Default: 8 MiB.
    /// </summary>
    public long DirectWriteThreshold { get; set; } = 8L * 1024 * 1024;

    /// <summary>Checks the options.</summary>
    /// <returns>Every problem found, as messages naming the option; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Directory))
        {
            problems.Add($"{nameof(FileStoreOptions)}.{nameof(Directory)} must name a directory.");
        }
        else if (Directory.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            problems.Add($"{nameof(FileStoreOptions)}.{nameof(Directory)} '{Directory}' contains characters that are not allowed in a path.");
        }

        if (BufferSize is < MinBufferSize or > MaxBufferSize)
        {
            problems.Add($"{nameof(FileStoreOptions)}.{nameof(BufferSize)} must be between {MinBufferSize} and {MaxBufferSize} bytes; it is {BufferSize}.");
        }

        if (DirectWriteThreshold < 0)
        {
            problems.Add($"{nameof(FileStoreOptions)}.{nameof(DirectWriteThreshold)} must not be negative; it is {DirectWriteThreshold}.");
        }

        return problems;
    }
}
