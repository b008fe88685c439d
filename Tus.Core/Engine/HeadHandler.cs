using System.Globalization;
using System.Text;
using Tus.Http;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>HEAD: an upload's offset, length, metadata, concatenation and expiry.</summary>
internal static class HeadHandler
{
    public static async ValueTask<TusResponse> HandleAsync(EngineContext context, TusRequest request, TusResponse response, string uploadId)
    {
        // Responses to HEAD carry no body, and must not be cached: the offset moves.
        response.SetHeader("Cache-Control", "no-store");

        // Taking the lock asks a stale PATCH of this upload to let go, so the offset reported is the one that stays.
        var (held, lockError) = await UploadAccess.LockAsync(context, request, uploadId).ConfigureAwait(false);
        if (held is null)
        {
            return response.Fail(lockError!, withBody: false);
        }

        await using (held.ConfigureAwait(false))
        {
            var (upload, error) = await UploadAccess.LoadAsync(context, uploadId, request.Aborted, held).ConfigureAwait(false);
            if (upload is null)
            {
                return response.Fail(error!, withBody: false);
            }

            (upload, error) = await Concatenation.TryCompleteAsync(context, request, upload, held).ConfigureAwait(false);
            if (error is not null)
            {
                return response.Fail(error, withBody: false);
            }

            response.Upload = upload;
            Describe(request, response, upload);
            return response.Succeed(200);
        }
    }

    private static void Describe(TusRequest request, TusResponse response, UploadInfo upload)
    {
        var isFinal = upload.Concatenation is { IsFinal: true };

        // concatenation-unfinished: a final upload has no offset until it has been assembled.
        if (!isFinal || upload.IsComplete)
        {
            response.SetOffset(upload.Offset);
        }

        if (upload.Length is { } length)
        {
            response.SetHeader(TusHeaders.UploadLength, length.ToString(CultureInfo.InvariantCulture));
        }
        else if (!isFinal)
        {
            response.SetHeader(TusHeaders.UploadDeferLength, "1");
        }

        if (upload.Metadata.Count > 0)
        {
            response.SetHeader(TusHeaders.UploadMetadata, upload.Metadata.ToString());
        }

        if (upload.Concatenation is { } concatenation)
        {
            response.SetHeader(TusHeaders.UploadConcat, concatenation.IsFinal ? FinalHeader(request, concatenation) : "partial");
        }

        response.SetExpires(upload);
    }

    private static string FinalHeader(TusRequest request, UploadConcatenation concatenation)
    {
        var builder = new StringBuilder("final;");
        for (var i = 0; i < concatenation.PartialIds.Count; i++)
        {
            if (i > 0)
            {
                builder.Append(' ');
            }

            builder.Append(UploadUrls.Relative(request, concatenation.PartialIds[i]));
        }

        return builder.ToString();
    }
}
