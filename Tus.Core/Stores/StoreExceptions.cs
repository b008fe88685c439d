using Tus.Protocol;

namespace Tus.Stores;

/// <summary>
/// A store (or locker) failure with a stable <see cref="TusError"/>: the engine answers it with that error's status and code, and
/// uses the code in logs and metrics. Anything else a store throws becomes a 500 with a generic body; no exception
/// message ever reaches a client.
/// </summary>
/// <remarks>
/// Throw one of the predefined kinds (<see cref="UploadNotFoundException"/>, <see cref="UploadAlreadyExistsException"/>,
/// <see cref="StorageFullException"/>, <see cref="StoreUnavailableException"/>, <see cref="QuotaExceededException"/>) or
/// this class itself with an error of your own. A locker whose backend is unreachable throws this class with
/// <see cref="TusError.LockerUnavailable"/>.
/// </remarks>
public class TusStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="error">What the client is answered.</param>
    /// <param name="message">A message for logs; never shown to clients.</param>
    public TusStoreException(TusError error, string message)
        : this(error, message, null)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="error">What the client is answered.</param>
    /// <param name="message">A message for logs; never shown to clients.</param>
    /// <param name="innerException">The cause, if any.</param>
    public TusStoreException(TusError error, string message, Exception? innerException)
        : base(message, innerException)
    {
        ArgumentNullException.ThrowIfNull(error);
        Error = error;
    }

    /// <summary>The error the client is answered with.</summary>
    public TusError Error { get; }
}

/// <summary>The upload does not exist (any more): <see cref="TusError.UploadNotFound"/>, 404.</summary>
public sealed class UploadNotFoundException : TusStoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="uploadId">The id that was not found.</param>
    public UploadNotFoundException(string uploadId)
        : base(TusError.UploadNotFound, $"Upload '{uploadId}' was not found.")
    {
        UploadId = uploadId;
    }

    /// <summary>The id that was not found.</summary>
    public string UploadId { get; }
}

/// <summary>An upload with the requested id exists already: <see cref="TusError.UploadAlreadyExists"/>, 409.</summary>
public sealed class UploadAlreadyExistsException : TusStoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="uploadId">The id that is taken.</param>
    public UploadAlreadyExistsException(string uploadId)
        : base(TusError.UploadAlreadyExists, $"Upload '{uploadId}' exists already.")
    {
        UploadId = uploadId;
    }

    /// <summary>The id that is taken.</summary>
    public string UploadId { get; }
}

/// <summary>The storage itself has no room (disk or bucket full): <see cref="TusError.StorageFull"/>, 507.</summary>
public sealed class StorageFullException : TusStoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What ran out; for logs.</param>
    public StorageFullException(string message)
        : base(TusError.StorageFull, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What ran out; for logs.</param>
    /// <param name="innerException">The cause, if any.</param>
    public StorageFullException(string message, Exception? innerException)
        : base(TusError.StorageFull, message, innerException)
    {
    }
}

/// <summary>
/// The storage backend cannot be reached or did not answer in time: <see cref="TusError.StoreUnavailable"/>, 503, which
/// tus clients retry.
/// </summary>
public sealed class StoreUnavailableException : TusStoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; for logs.</param>
    public StoreUnavailableException(string message)
        : base(TusError.StoreUnavailable, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; for logs.</param>
    /// <param name="innerException">The cause, if any.</param>
    public StoreUnavailableException(string message, Exception? innerException)
        : base(TusError.StoreUnavailable, message, innerException)
    {
    }
}

/// <summary>
/// An operator's quota refuses the bytes (a quota wrapper, a per-tenant limit): <see cref="TusError.QuotaExceeded"/>,
/// 413, which tus clients show as an error instead of retrying.
/// </summary>
public sealed class QuotaExceededException : TusStoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which quota refused what; for logs.</param>
    public QuotaExceededException(string message)
        : base(TusError.QuotaExceeded, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which quota refused what; for logs.</param>
    /// <param name="innerException">The cause, if any.</param>
    public QuotaExceededException(string message, Exception? innerException)
        : base(TusError.QuotaExceeded, message, innerException)
    {
    }
}
