using Tus.Http;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Hooks;

/// <summary>What a request on an existing upload intends, as the authorize hook sees it.</summary>
public enum TusIntent
{
    /// <summary>HEAD: read the upload's state (to resume it).</summary>
    GetInfo,

    /// <summary>PATCH: write to the upload.</summary>
    Write,

    /// <summary>GET: download the upload.</summary>
    Download,

    /// <summary>DELETE: terminate the upload.</summary>
    Terminate,

    /// <summary>POST of a final upload: use this partial upload in a concatenation.</summary>
    Concatenate,
}

/// <summary>The base of every hook context: the request that caused the event.</summary>
public abstract class TusHookContext
{
    private protected TusHookContext(TusHookRequest request) => Request = request;

    /// <summary>The request that caused the event, as a snapshot that outlives it.</summary>
    public TusHookRequest Request { get; }
}

/// <summary>The base of the contexts of hooks that run on the request path, before the response.</summary>
public abstract class TusPreHookContext : TusHookContext
{
    private protected TusPreHookContext(TusHookRequest request, IServiceProvider? services)
        : base(request) => Services = services;

    /// <summary>The request's services (scoped to it), or <see langword="null"/> when the host has none.</summary>
    public IServiceProvider? Services { get; }

    /// <summary>Changes to the response: headers, a body and a status code (see <see cref="TusHookResponse"/>).</summary>
    public TusHookResponse Response { get; } = new();
}

/// <summary>The base of the contexts of hooks that can refuse the request.</summary>
public abstract class TusRejectableHookContext : TusPreHookContext
{
    private readonly TusError _defaultRejection;

    private protected TusRejectableHookContext(TusHookRequest request, IServiceProvider? services, TusError defaultRejection)
        : base(request, services) => _defaultRejection = defaultRejection;

    /// <summary>The error the request will be answered with once rejected; <see langword="null"/> while it may proceed.</summary>
    public TusError? Rejection { get; private set; }

    /// <summary>Whether a hook refused the request.</summary>
    public bool IsRejected => Rejection is not null;

    /// <summary>Refuses the request with the event's own error (403 <c>ERR_ACCESS_DENIED</c> for authorization, 400
    /// <c>ERR_UPLOAD_REJECTED</c> for creation, 400 <c>ERR_UPLOAD_TERMINATION_REJECTED</c> for termination). Set
    /// <see cref="TusPreHookContext.Response"/> to send another status, headers or body.</summary>
    public void Reject() => Rejection = _defaultRejection;

    /// <summary>Refuses the request with a chosen error (status, code and message).</summary>
    /// <param name="error">The error to answer with, e.g. <c>new TusError("ERR_QUOTA", 403, "quota reached")</c>.</param>
    public void Reject(TusError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        Rejection = error;
    }
}

/// <summary>The context of <see cref="ITusAuthorizeHook"/>.</summary>
public sealed class AuthorizeContext : TusRejectableHookContext
{
    internal AuthorizeContext(TusHookRequest request, IServiceProvider? services, TusIntent intent, UploadInfo upload)
        : base(request, services, TusError.AccessDenied)
    {
        Intent = intent;
        Upload = upload;
    }

    /// <summary>What the request intends to do with <see cref="Upload"/>.</summary>
    public TusIntent Intent { get; }

    /// <summary>The upload concerned as stored (for <see cref="TusIntent.Concatenate"/>, the partial upload), read
    /// without its lock so that refusing a request never interrupts the owner's.</summary>
    public UploadInfo Upload { get; }
}

/// <summary>The context of <see cref="ITusPreCreateHook"/>.</summary>
public sealed class PreCreateContext : TusRejectableHookContext
{
    private string _uploadId;
    private UploadMetadata _metadata;

    internal PreCreateContext(TusHookRequest request, IServiceProvider? services, NewUpload upload)
        : base(request, services, TusError.UploadRejected)
    {
        _uploadId = upload.Id;
        _metadata = upload.Metadata;
        Length = upload.Length;
        Concatenation = upload.Concatenation;
    }

    /// <summary>The id the upload will get: a random one unless a hook changes it. Set only unguessable, collision-free ids:
    /// an id that is taken is answered 409 <c>ERR_UPLOAD_ALREADY_EXISTS</c>.</summary>
    /// <exception cref="ArgumentException">The new id is not a valid upload id (see <see cref="Protocol.UploadId.IsValid"/>).</exception>
    public string UploadId
    {
        get => _uploadId;
        set
        {
            Protocol.UploadId.ThrowIfInvalid(value, nameof(value));
            _uploadId = value;
        }
    }

    /// <summary>The declared length, or <see langword="null"/> when deferred (or for a final upload of unfinished partials).</summary>
    public long? Length { get; }

    /// <summary>The metadata the upload will be stored with; replace it to change it.</summary>
    public UploadMetadata Metadata
    {
        get => _metadata;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _metadata = value;
        }
    }

    /// <summary>Partial or final upload details, or <see langword="null"/> for a plain upload.</summary>
    public UploadConcatenation? Concatenation { get; }
}

/// <summary>The context of <see cref="ITusPreFinishHook"/>: its <see cref="TusPreHookContext.Response"/> shapes the
/// response of the request that finished the upload (a body turns a 204 into a 200).</summary>
public sealed class PreFinishContext : TusPreHookContext
{
    internal PreFinishContext(TusHookRequest request, IServiceProvider? services, UploadInfo upload)
        : base(request, services) => Upload = upload;

    /// <summary>The finished upload.</summary>
    public UploadInfo Upload { get; }
}

/// <summary>The context of <see cref="ITusPreTerminateHook"/>.</summary>
public sealed class PreTerminateContext : TusRejectableHookContext
{
    internal PreTerminateContext(TusHookRequest request, IServiceProvider? services, UploadInfo upload)
        : base(request, services, TusError.TerminationRejected) => Upload = upload;

    /// <summary>The upload about to be deleted.</summary>
    public UploadInfo Upload { get; }
}

/// <summary>The context of the post-hooks of creation, finish and termination.</summary>
public sealed class UploadEventContext : TusHookContext
{
    internal UploadEventContext(TusHookRequest request, UploadInfo upload)
        : base(request) => Upload = upload;

    /// <summary>The upload (for post-terminate, as it was before deletion).</summary>
    public UploadInfo Upload { get; }
}

/// <summary>The context of <see cref="ITusPostReceiveHook"/>.</summary>
public sealed class PostReceiveContext : TusHookContext
{
    private readonly ProgressReporter? _reporter;

    internal PostReceiveContext(TusHookRequest request, UploadInfo upload, ProgressReporter? reporter)
        : base(request)
    {
        Upload = upload;
        _reporter = reporter;
    }

    /// <summary>The upload, its <see cref="UploadInfo.Offset"/> being the bytes received so far.</summary>
    public UploadInfo Upload { get; }

    /// <summary>Ends the request still writing to the upload, if it still is: the bytes received so far are kept and the
    /// client is answered 400 <c>ERR_UPLOAD_STOPPED</c>, changed by <see cref="Response"/>.</summary>
    /// <returns><see langword="false"/> when that request had ended already.</returns>
    public bool StopUpload() => _reporter?.Stop(Response) ?? false;

    /// <summary>Changes to the answer of a stopped request (status, headers, body).</summary>
    public TusHookResponse Response { get; } = new();
}
