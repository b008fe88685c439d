namespace Tus.Stores;

/// <summary>
/// The base of the few exceptions a store throws for outcomes the engine answers deliberately. Anything else a store
/// throws becomes a 500 with a generic body; its message is logged, never sent to the client.
/// </summary>
public abstract class TusStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">A message for logs; never shown to clients.</param>
    /// <param name="innerException">The cause, if any.</param>
    protected TusStoreException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The upload does not exist (any more).</summary>
public sealed class UploadNotFoundException : TusStoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="uploadId">The id that was not found.</param>
    public UploadNotFoundException(string uploadId)
        : base($"Upload '{uploadId}' was not found.")
    {
        UploadId = uploadId;
    }

    /// <summary>The id that was not found.</summary>
    public string UploadId { get; }
}

/// <summary>An upload with the requested id exists already.</summary>
public sealed class UploadAlreadyExistsException : TusStoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="uploadId">The id that is taken.</param>
    public UploadAlreadyExistsException(string uploadId)
        : base($"Upload '{uploadId}' exists already.")
    {
        UploadId = uploadId;
    }

    /// <summary>The id that is taken.</summary>
    public string UploadId { get; }
}

/// <summary>The store has no room for the upload (disk full, quota reached).</summary>
public sealed class StorageFullException : TusStoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What ran out; for logs.</param>
    /// <param name="innerException">The cause, if any.</param>
    public StorageFullException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The storage backend cannot be reached right now; the client may retry.</summary>
public sealed class StoreUnavailableException : TusStoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; for logs.</param>
    /// <param name="innerException">The cause, if any.</param>
    public StoreUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
