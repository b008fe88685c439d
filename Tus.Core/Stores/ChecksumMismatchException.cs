namespace Tus.Stores;

/// <summary>
/// Thrown by the request body stream the engine gives <see cref="ITusStore.AppendAsync"/>, instead of signalling the end
/// of the body, when that body's bytes cannot be verified: the checksum the client sent (in the <c>Upload-Checksum</c>
/// header or trailer) does not match, the announced trailer is missing or invalid, or the body ended early (or went on
/// beyond what the upload may take) while a checksum was expected.
/// </summary>
/// <remarks>
/// <para>A store should keep none of that body's bytes (at least none beyond what it had before the call) and let the
/// exception propagate: a store that cannot take bytes back cheaply (an S3 multipart upload, say) then never commits
/// them. Every later read of the stream throws it again.</para>
/// <para>A store that keeps the bytes anyway (it wrote them as they arrived) is still correct: the engine learns the
/// offset with <see cref="ITusStore.GetAsync"/> and takes those bytes back with
/// <see cref="ITusChecksumStore.DiscardFromAsync"/>. The client's answer is the same either way.</para>
/// <para>It is only ever thrown to stores that declare <see cref="ITusStore.Checksum"/>: without that capability the
/// engine verifies no checksums.</para>
/// </remarks>
public sealed class ChecksumMismatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ChecksumMismatchException()
        : this("The request body failed its checksum verification; its bytes must not be kept.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; for logs.</param>
    public ChecksumMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; for logs.</param>
    /// <param name="innerException">The cause, if any.</param>
    public ChecksumMismatchException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
