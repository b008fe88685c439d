using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Tus.AspNetCore.Transport;

/// <summary>Puts a <see cref="DisconnectDrainingInput"/> between the socket and Kestrel's HTTP parser.</summary>
internal static class DisconnectDrainingMiddleware
{
    public static ConnectionDelegate Create(ConnectionDelegate next, TimeSpan drainTimeout, TimeProvider time) =>
        async connection =>
        {
            var transport = connection.Transport;
            var transportClosed = connection.ConnectionClosed;
            var input = new DisconnectDrainingInput(transport.Input, drainTimeout, time);
            using var registration = transportClosed.UnsafeRegister(static state => ((DisconnectDrainingInput)state!).OnTransportClosed(), input);
            connection.Transport = new DuplexPipe(input, transport.Output);
            connection.ConnectionClosed = input.Closed;
            connection.Features.Set(new ClientFinishedSendingFeature(transportClosed));
            try
            {
                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                connection.Transport = transport;
                connection.ConnectionClosed = transportClosed;
            }
        };

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
