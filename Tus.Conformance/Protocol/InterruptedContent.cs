using System.Net;

namespace Tus.Conformance.Internal;

/// <summary>
/// A request body that announces its full length, sends only the first bytes, waits until the server has taken them,
/// then fails: the client breaks the request off mid-body, as a dropped connection does.
/// </summary>
internal sealed class InterruptedContent(byte[] data, int sent, Func<Task> waitUntilReceived) : HttpContent
{
    /// <summary>Why waiting for the server failed, if it did (the server never read the bytes sent).</summary>
    public Exception? WaitFailure { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(data.AsMemory(0, sent), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await waitUntilReceived().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            WaitFailure = exception;
        }

        throw new IOException("The client broke the request off on purpose.");
    }

    protected override bool TryComputeLength(out long length)
    {
        length = data.Length;
        return true;
    }
}
