namespace Tus.AspNetCore.Transport;

/// <summary>
/// A connection feature: fires when the transport saw the client's end of the connection close (FIN, or a reset). Set
/// by <see cref="DisconnectDrainingMiddleware"/>, whose input still hands out every byte received before that.
/// </summary>
internal sealed class ClientFinishedSendingFeature(CancellationToken finished)
{
    public CancellationToken Finished { get; } = finished;
}
