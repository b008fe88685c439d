using Tus.Protocol;
using Tus.Stores;

namespace Tus.Lockers.Consul;

/// <summary>
/// Consul could not be reached, did not answer in time, or refused a call, so a lock could not be taken. The engine
/// answers it like any coded failure: <see cref="LockerUnavailable"/>, 503, which tus clients retry.
/// </summary>
/// <remarks>
/// It derives from <see cref="TusStoreException"/> because that is the coded failure the engine maps to a response
/// (Tus.Core has no locker counterpart yet); the error code says it is the locker.
/// </remarks>
public sealed class ConsulUnavailableException : TusStoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; for logs, never shown to clients.</param>
    public ConsulUnavailableException(string message)
        : base(LockerUnavailable, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; for logs, never shown to clients.</param>
    /// <param name="innerException">The cause, if any.</param>
    public ConsulUnavailableException(string message, Exception? innerException)
        : base(LockerUnavailable, message, innerException)
    {
    }

    /// <summary>503 <c>ERR_LOCKER_UNAVAILABLE</c>: the lock service is unavailable; what was stored is kept and the client
    /// retries.</summary>
    public static TusError LockerUnavailable { get; } = new("ERR_LOCKER_UNAVAILABLE", 503, "the lock service is temporarily unavailable; try again");
}
