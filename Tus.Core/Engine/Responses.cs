using System.Globalization;
using System.Text;
using Tus.Http;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Engine;

internal static class Responses
{
    public static TusResponse Status(int statusCode) => new(statusCode);

    /// <summary>Turns a response into the answer for <paramref name="error"/>: status, code and a short text body.</summary>
    public static TusResponse Fail(this TusResponse response, TusError error, bool withBody = true)
    {
        response.StatusCode = error.StatusCode;
        response.Error = error;
        response.BodyStream = null;
        if (withBody)
        {
            var body = Encoding.UTF8.GetBytes(error.Code + ": " + error.Message + "\n");
            response.Body = body;
            response.ContentLength = body.Length;
            response.SetHeader("Content-Type", "text/plain; charset=utf-8");
        }
        else
        {
            response.Body = default;
            response.ContentLength = null;
        }

        if (error == TusError.UnsupportedVersion)
        {
            response.SetHeader(TusHeaders.TusVersion, TusHeaders.ProtocolVersion);
        }

        return response;
    }

    public static TusResponse Succeed(this TusResponse response, int statusCode)
    {
        response.StatusCode = statusCode;
        response.Error = null;
        return response;
    }

    public static void SetOffset(this TusResponse response, long offset) =>
        response.SetHeader(TusHeaders.UploadOffset, offset.ToString(CultureInfo.InvariantCulture));

    /// <summary>Adds Upload-Expires while an unfinished upload has an expiry.</summary>
    public static void SetExpires(this TusResponse response, UploadInfo upload)
    {
        if (!upload.IsComplete && upload.ExpiresAt is { } expires)
        {
            response.SetHeader(TusHeaders.UploadExpires, FormatHttpDate(expires));
        }
        else
        {
            response.RemoveHeader(TusHeaders.UploadExpires);
        }
    }

    public static string FormatHttpDate(DateTimeOffset value) =>
        value.UtcDateTime.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The one table that maps what stores throw to what clients see.</summary>
    /// <remarks>Every coded store failure carries its error (<see cref="TusStoreException.Error"/>); anything else is
    /// unknown here and becomes a 500 with a generic body.</remarks>
    public static TusError? MapStoreException(Exception exception) => exception switch
    {
        TusStoreException coded => coded.Error,
        _ => null,
    };
}
