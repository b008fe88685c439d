using Tus.Protocol;
using Tus.Stores;

namespace Tus.Lockers.Consul;

/// <summary>
/// Consul could not be reached, did not answer in time, or refused a call, so a lock could not be taken. The engine
/// answers it like any coded failure: <see cref="TusError.LockerUnavailable"/>, 503 <c>ERR_LOCKER_UNAVAILABLE</c>, which
/// tus clients retry.
/// </summary>
public sealed class ConsulUnavailableException : TusStoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; for logs, never shown to clients.</param>
    public ConsulUnavailableException(string message)
        : base(TusError.LockerUnavailable, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; for logs, never shown to clients.</param>
    /// <param name="innerException">The cause, if any.</param>
    public ConsulUnavailableException(string message, Exception? innerException)
        : base(TusError.LockerUnavailable, message, innerException)
    {
    }
}
