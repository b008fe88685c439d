using Tus.Http;
using Tus.Locking;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>The concatenation extension's rules: reading Upload-Concat and assembling final uploads.</summary>
internal static class Concatenation
{
    /// <summary>Parses Upload-Concat: "partial", or "final;" followed by space-separated upload URLs.</summary>
    public static (UploadConcatenation? Concatenation, TusError? Error) Parse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return (null, null);
        }

        var value = header.Trim();
        if (value == "partial")
        {
            return (UploadConcatenation.Partial, null);
        }

        if (!value.StartsWith("final;", StringComparison.Ordinal))
        {
            return (null, TusError.InvalidConcat);
        }

        var ids = new List<string>();
        foreach (var url in value["final;".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!UploadUrls.TryReadId(url, out var id))
            {
                return (null, TusError.InvalidConcat);
            }

            ids.Add(id);
        }

        return ids.Count == 0 ? (null, TusError.InvalidConcat) : (UploadConcatenation.Final(ids), null);
    }

    /// <summary>Loads the partial uploads a final upload names, checking each may be part of one.</summary>
    public static async ValueTask<(List<UploadInfo>? Partials, TusError? Error)> LoadPartialsAsync(EngineContext context, IReadOnlyList<string> ids, bool requireComplete, CancellationToken cancellationToken)
    {
        var partials = new List<UploadInfo>(ids.Count);
        foreach (var id in ids)
        {
            var (partial, error) = await UploadAccess.LoadAsync(context, id, cancellationToken).ConfigureAwait(false);
            if (partial is null)
            {
                return (null, error == TusError.UploadExpired ? error : TusError.InvalidConcat);
            }

            if (partial.Concatenation?.IsPartial != true)
            {
                return (null, TusError.InvalidConcat);
            }

            if (requireComplete && !partial.IsComplete)
            {
                return (null, TusError.UploadNotFinished);
            }

            partials.Add(partial);
        }

        return (partials, null);
    }

    /// <summary>The sum of the partial lengths, or <see langword="null"/> while one is still deferred.</summary>
    public static long? TotalLength(IEnumerable<UploadInfo> partials)
    {
        long total = 0;
        foreach (var partial in partials)
        {
            if (partial.Length is not { } length)
            {
                return null;
            }

            total = checked(total + length);
        }

        return total;
    }

    /// <summary>
    /// Assembles a final upload once all its partial uploads are complete; until then returns it unchanged. Call with
    /// the final upload's lock held.
    /// </summary>
    public static async ValueTask<(UploadInfo Upload, TusError? Error)> TryCompleteAsync(EngineContext context, TusRequest request, UploadInfo final, ITusLock held)
    {
        if (final.Concatenation is not { IsFinal: true } concatenation || final.IsComplete || context.Capabilities.Concatenation is not { } store)
        {
            return (final, null);
        }

        var (partials, error) = await LoadPartialsAsync(context, concatenation.PartialIds, requireComplete: false, request.Aborted).ConfigureAwait(false);
        if (partials is null)
        {
            return (final, error);
        }

        if (!partials.TrueForAll(p => p.IsComplete))
        {
            return (final, null);
        }

        if (TotalLength(partials) > context.Options.MaxSize)
        {
            return (final, TusError.MaxSizeExceeded);
        }

        // It copies every partial upload, so it gets its own, longer limit; the client going away does not stop it.
        UploadInfo completed;
        using (var call = new StoreCall(context, context.Options.ConcatenationTimeout, clientGone: default, held.Lost))
        {
            completed = await call.Await(store.ConcatenateAsync(final, partials, call.Token)).ConfigureAwait(false);
        }

        await Notifications.CompletedAsync(context, request, completed).ConfigureAwait(false);
        return (completed, null);
    }
}
