using System.Globalization;
using System.Text;
using System.Text.Json;
using Tus.Hooks;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Server.Hooks;

/// <summary>How a hook request reaches a hook program: a file to run, or an HTTP endpoint.</summary>
internal interface IHookTransport
{
    /// <summary>Describes the transport for the start-up log.</summary>
    string Description { get; }

    /// <summary>Delivers one hook request; <see langword="null"/> when nothing handles this event (no such hook file).</summary>
    /// <exception cref="ExternalHookException">The hook program failed: a non-zero exit, a non-2xx answer, an unreadable response.</exception>
    ValueTask<HookResponseDocument?> InvokeAsync(string hookType, HookRequestDocument request, CancellationToken cancellationToken);
}

/// <summary>A hook program failed; the message is for the log, never for a client.</summary>
internal sealed class ExternalHookException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Turns engine hook events into tusd's hook requests and applies tusd's hook responses: the one place that knows both
/// the engine's hook contexts and tusd's JSON.
/// </summary>
internal sealed class ExternalHookInvoker(IHookTransport transport, ILogger<ExternalHookInvoker> logger)
{
    private static readonly UTF8Encoding LenientUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    public IHookTransport Transport => transport;

    public async ValueTask AuthorizeAsync(AuthorizeContext context, CancellationToken cancellationToken)
    {
        var response = await InvokeAsync(HookEvents.Authorize, context.Request, Describe(context.Upload), cancellationToken).ConfigureAwait(false);
        if (response is { RejectUpload: true })
        {
            context.Reject();
            Merge(context.Response, response.HttpResponse);
        }
    }

    public async ValueTask PreCreateAsync(PreCreateContext context, CancellationToken cancellationToken)
    {
        var upload = new UploadDocument
        {
            // As in tusd: the upload has no id before it is created.
            Id = "",
            Size = context.Length ?? 0,
            SizeIsDeferred = context.Length is null && context.Concatenation is not { IsFinal: true },
            MetaData = Text(context.Metadata),
            IsPartial = context.Concatenation is { IsPartial: true },
            IsFinal = context.Concatenation is { IsFinal: true },
            PartialUploads = context.Concatenation is { IsFinal: true } final ? [.. final.PartialIds] : null,
        };
        var response = await InvokeAsync(HookEvents.PreCreate, context.Request, upload, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return;
        }

        Merge(context.Response, response.HttpResponse);
        if (response.RejectUpload)
        {
            context.Reject();
            return;
        }

        if (response.ChangeFileInfo is { } changes)
        {
            if (!string.IsNullOrEmpty(changes.Id))
            {
                if (!UploadId.IsValid(changes.Id))
                {
                    throw new ExternalHookException($"The pre-create hook chose the upload id '{changes.Id}', which is not 1 to {UploadId.MaxLength} characters of A-Z, a-z, 0-9, '-' and '_'.");
                }

                context.UploadId = changes.Id;
            }

            if (changes.MetaData is { } metadata)
            {
                if (metadata.Keys.FirstOrDefault(k => !UploadMetadata.IsValidKey(k)) is { } badKey)
                {
                    throw new ExternalHookException($"The pre-create hook set the metadata key '{badKey}', which is not a valid key.");
                }

                context.Metadata = UploadMetadata.FromStrings(metadata);
            }

            if (changes.Storage is { Count: > 0 })
            {
                HookLog.StorageChangeIgnored(logger);
            }
        }
    }

    public ValueTask PostCreateAsync(UploadEventContext context, CancellationToken cancellationToken) =>
        NotifyAsync(HookEvents.PostCreate, context.Request, context.Upload, cancellationToken);

    public async ValueTask PostReceiveAsync(PostReceiveContext context, CancellationToken cancellationToken)
    {
        var response = await InvokeAsync(HookEvents.PostReceive, context.Request, Describe(context.Upload), cancellationToken).ConfigureAwait(false);
        if (response is { StopUpload: true })
        {
            Merge(context.Response, response.HttpResponse);
            context.StopUpload();
        }
    }

    public async ValueTask PreFinishAsync(PreFinishContext context, CancellationToken cancellationToken)
    {
        var response = await InvokeAsync(HookEvents.PreFinish, context.Request, Describe(context.Upload), cancellationToken).ConfigureAwait(false);
        Merge(context.Response, response?.HttpResponse);
    }

    public ValueTask PostFinishAsync(UploadEventContext context, CancellationToken cancellationToken) =>
        NotifyAsync(HookEvents.PostFinish, context.Request, context.Upload, cancellationToken);

    public async ValueTask PreTerminateAsync(PreTerminateContext context, CancellationToken cancellationToken)
    {
        var response = await InvokeAsync(HookEvents.PreTerminate, context.Request, Describe(context.Upload), cancellationToken).ConfigureAwait(false);
        if (response is { RejectTermination: true })
        {
            context.Reject();
            Merge(context.Response, response.HttpResponse);
        }
    }

    public ValueTask PostTerminateAsync(UploadEventContext context, CancellationToken cancellationToken) =>
        NotifyAsync(HookEvents.PostTerminate, context.Request, context.Upload, cancellationToken);

    private async ValueTask NotifyAsync(string hookType, TusHookRequest request, UploadInfo upload, CancellationToken cancellationToken) =>
        await InvokeAsync(hookType, request, Describe(upload), cancellationToken).ConfigureAwait(false);

    private ValueTask<HookResponseDocument?> InvokeAsync(string hookType, TusHookRequest request, UploadDocument upload, CancellationToken cancellationToken) =>
        transport.InvokeAsync(hookType, new HookRequestDocument
        {
            Type = hookType,
            Event = new HookEventDocument { Upload = upload, HttpRequest = Describe(request) },
        }, cancellationToken);

    internal static UploadDocument Describe(UploadInfo upload) => new()
    {
        Id = upload.Id,
        Size = upload.Length ?? 0,
        SizeIsDeferred = upload.Length is null && upload.Concatenation is not { IsFinal: true },
        Offset = upload.Offset,
        MetaData = Text(upload.Metadata),
        IsPartial = upload.Concatenation is { IsPartial: true },
        IsFinal = upload.Concatenation is { IsFinal: true },
        PartialUploads = upload.Concatenation is { IsFinal: true } final ? [.. final.PartialIds] : null,
        Storage = upload.Storage.Count == 0 ? null : new Dictionary<string, string>(upload.Storage),
    };

    internal static HttpRequestDocument Describe(TusHookRequest request)
    {
        var headers = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, value) in request.Headers)
        {
            var canonical = CanonicalHeaderName(name);
            if (!headers.TryGetValue(canonical, out var values))
            {
                headers[canonical] = values = [];
            }

            values.Add(value);
        }

        return new HttpRequestDocument
        {
            Method = request.Method,
            Uri = request.Uri,
            RemoteAddr = request.RemoteEndPoint?.ToString() ?? "",
            Header = headers,
        };
    }

    /// <summary>
    /// A header name as Go's <c>http.CanonicalHeaderKey</c> spells it, which tusd's hooks receive: the first letter and
    /// every letter after a hyphen upper case, the rest lower case; a name with a character a token may not hold
    /// (a space, for one) is left as it is.
    /// </summary>
    internal static string CanonicalHeaderName(string name)
    {
        foreach (var c in name)
        {
            if (c is ' ' or '\t' or ':' || c > '~' || c < '!')
            {
                return name;
            }
        }

        var chars = name.ToCharArray();
        var upper = true;
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = upper ? char.ToUpperInvariant(chars[i]) : char.ToLowerInvariant(chars[i]);
            upper = chars[i] == '-';
        }

        return new string(chars);
    }

    private static Dictionary<string, string> Text(UploadMetadata metadata)
    {
        var text = new Dictionary<string, string>(metadata.Count, StringComparer.Ordinal);
        foreach (var (key, value) in metadata)
        {
            text[key] = LenientUtf8.GetString(value.Span);
        }

        return text;
    }

    /// <summary>tusd's HTTPResponse over the engine's response changes: a zero status and an empty body change nothing.</summary>
    private static void Merge(TusHookResponse target, HttpResponseDocument? response)
    {
        if (response is null)
        {
            return;
        }

        if (response.StatusCode != 0)
        {
            target.StatusCode = response.StatusCode;
        }

        if (!string.IsNullOrEmpty(response.Body))
        {
            target.Body = response.Body;
        }

        foreach (var (name, value) in response.Header ?? [])
        {
            target.Headers[name] = value;
        }
    }

    /// <summary>Parses a hook program's answer; empty output is an empty answer, as in tusd.</summary>
    internal static HookResponseDocument ParseResponse(ReadOnlySpan<byte> output, string hookType)
    {
        if (output.Trim(" \t\r\n"u8).IsEmpty)
        {
            return new HookResponseDocument();
        }

        try
        {
            return JsonSerializer.Deserialize(output, HookJsonContext.Default.HookResponseDocument) ?? new HookResponseDocument();
        }
        catch (JsonException exception)
        {
            throw new ExternalHookException($"The {hookType} hook's response is not a hook response in JSON: {exception.Message}", exception);
        }
    }

    internal static byte[] Serialize(HookRequestDocument request) =>
        JsonSerializer.SerializeToUtf8Bytes(request, HookJsonContext.Default.HookRequestDocument);

    internal static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One engine hook per enabled event, each handing its event to the invoker.</summary>
internal static class ExternalHooks
{
    internal sealed class Authorize(ExternalHookInvoker invoker) : ITusAuthorizeHook
    {
        public ValueTask OnAuthorizeAsync(AuthorizeContext context, CancellationToken cancellationToken) => invoker.AuthorizeAsync(context, cancellationToken);
    }

    internal sealed class PreCreate(ExternalHookInvoker invoker) : ITusPreCreateHook
    {
        public ValueTask OnPreCreateAsync(PreCreateContext context, CancellationToken cancellationToken) => invoker.PreCreateAsync(context, cancellationToken);
    }

    internal sealed class PostCreate(ExternalHookInvoker invoker) : ITusPostCreateHook
    {
        public ValueTask OnPostCreateAsync(UploadEventContext context, CancellationToken cancellationToken) => invoker.PostCreateAsync(context, cancellationToken);
    }

    internal sealed class PostReceive(ExternalHookInvoker invoker) : ITusPostReceiveHook
    {
        public ValueTask OnPostReceiveAsync(PostReceiveContext context, CancellationToken cancellationToken) => invoker.PostReceiveAsync(context, cancellationToken);
    }

    internal sealed class PreFinish(ExternalHookInvoker invoker) : ITusPreFinishHook
    {
        public ValueTask OnPreFinishAsync(PreFinishContext context, CancellationToken cancellationToken) => invoker.PreFinishAsync(context, cancellationToken);
    }

    internal sealed class PostFinish(ExternalHookInvoker invoker) : ITusPostFinishHook
    {
        public ValueTask OnPostFinishAsync(UploadEventContext context, CancellationToken cancellationToken) => invoker.PostFinishAsync(context, cancellationToken);
    }

    internal sealed class PreTerminate(ExternalHookInvoker invoker) : ITusPreTerminateHook
    {
        public ValueTask OnPreTerminateAsync(PreTerminateContext context, CancellationToken cancellationToken) => invoker.PreTerminateAsync(context, cancellationToken);
    }

    internal sealed class PostTerminate(ExternalHookInvoker invoker) : ITusPostTerminateHook
    {
        public ValueTask OnPostTerminateAsync(UploadEventContext context, CancellationToken cancellationToken) => invoker.PostTerminateAsync(context, cancellationToken);
    }

    /// <summary>The hook of one event, by tusd's name.</summary>
    public static ITusHook For(string hookType, ExternalHookInvoker invoker) => hookType switch
    {
        HookEvents.Authorize => new Authorize(invoker),
        HookEvents.PreCreate => new PreCreate(invoker),
        HookEvents.PostCreate => new PostCreate(invoker),
        HookEvents.PostReceive => new PostReceive(invoker),
        HookEvents.PreFinish => new PreFinish(invoker),
        HookEvents.PostFinish => new PostFinish(invoker),
        HookEvents.PreTerminate => new PreTerminate(invoker),
        HookEvents.PostTerminate => new PostTerminate(invoker),
        _ => throw new ArgumentOutOfRangeException(nameof(hookType), hookType, "Not a hook event."),
    };
}
