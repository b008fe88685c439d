using Microsoft.AspNetCore.Server.Kestrel.Core;
using Tus.AspNetCore.Transport;

// In the framework's namespace, like UseHttps(), so that listen options show it without a using directive.
namespace Microsoft.AspNetCore.Hosting;

/// <summary>Kestrel connection settings for tus endpoints.</summary>
public static class TusListenOptionsExtensions
{
    /// <summary>The default of <see cref="KeepReceivedBytesOnDisconnect(ListenOptions, TimeSpan)"/>'s drain timeout: 10 seconds.</summary>
    public static TimeSpan DefaultDrainTimeout { get; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Makes every byte that reached the server before a client closed or half-closed its connection readable by the
    /// application, so that a tus upload keeps it. Without this, Kestrel reports the end of the connection (aborting the
    /// request, and for a <c>Content-Length</c> body failing the read) while bytes it already received are still
    /// unread, and those are lost. A reset connection (TCP RST) still loses what the network stack discarded with it.
    /// </summary>
    /// <remarks>
    /// Add it to each endpoint, before <c>UseHttps()</c>, or to all of them:
    /// <c>builder.WebHost.ConfigureKestrel(k =&gt; k.ConfigureEndpointDefaults(l =&gt; l.KeepReceivedBytesOnDisconnect()));</c>.
    /// The application learns that the client went away (<c>HttpContext.RequestAborted</c>) once it has read every
    /// received byte, or after it stops reading for <see cref="DefaultDrainTimeout"/>.
    /// </remarks>
    /// <param name="listenOptions">The endpoint.</param>
    /// <returns><paramref name="listenOptions"/>, for chaining.</returns>
    public static ListenOptions KeepReceivedBytesOnDisconnect(this ListenOptions listenOptions) =>
        KeepReceivedBytesOnDisconnect(listenOptions, DefaultDrainTimeout);

    /// <summary>
    /// Makes every byte that reached the server before a client closed or half-closed its connection readable by the
    /// application; see <see cref="KeepReceivedBytesOnDisconnect(ListenOptions)"/>.
    /// </summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="drainTimeout">
    /// How long, after the client went away, the application may go without reading before the request is aborted
    /// anyway (the time restarts with each read that takes bytes).
    /// </param>
    /// <returns><paramref name="listenOptions"/>, for chaining.</returns>
    public static ListenOptions KeepReceivedBytesOnDisconnect(this ListenOptions listenOptions, TimeSpan drainTimeout)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        ArgumentOutOfRangeException.ThrowIfLessThan(drainTimeout, TimeSpan.Zero);
        var time = listenOptions.ApplicationServices.GetService(typeof(TimeProvider)) as TimeProvider ?? TimeProvider.System;
        return (ListenOptions)listenOptions.Use(next => DisconnectDrainingMiddleware.Create(next, drainTimeout, time));
    }
}
