using Microsoft.AspNetCore.Server.Kestrel.Core;
using Tus.AspNetCore.Interim;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>
/// Lets the tus engine send interim (1xx) responses on Kestrel's HTTP/1.1 connections, such as the IETF resumable-upload
/// draft's <c>104 Upload Resumption Supported</c>, which tells a client where to resume before its body is sent.
/// </summary>
public static class TusInterimResponseExtensions
{
    /// <summary>Enables interim responses on one endpoint. Add it after any middleware that replaces the transport (such as <c>UseHttps</c>) or before it: it reads the transport when it writes.</summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <returns>The endpoint, for chaining.</returns>
    public static ListenOptions UseTusInterimResponses(this ListenOptions listenOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        listenOptions.Use(next => connection =>
        {
            connection.Features.Set(new InterimResponseChannel(connection));
            return next(connection);
        });
        return listenOptions;
    }
}
