namespace Tus.Hooks;

/// <summary>
/// A handler of one or more upload lifecycle events. Implement the event interfaces you need (for example
/// <see cref="ITusPreCreateHook"/> and <see cref="ITusPostFinishHook"/>) on one class and register it with
/// <c>services.AddTus().AddHooks&lt;MyHooks&gt;()</c>, or register a delegate with <c>.OnPreCreate(...)</c> and friends.
/// Handlers of the same event run one after the other, in registration order.
/// </summary>
/// <remarks>
/// Pre-hooks (authorize, pre-create, pre-finish, pre-terminate) run on the request path, each call bounded by
/// <see cref="TusHookOptions.PreHookTimeout"/>; one that throws or times out answers the request with
/// <see cref="TusHookOptions.FailureError"/>. Post-hooks (post-create, post-receive, post-finish, post-terminate) run in
/// the background, never slow a request, and their failures are only logged.
/// </remarks>
#pragma warning disable CA1040 // A marker on purpose: one registration type for handlers of any set of events.
public interface ITusHook
#pragma warning restore CA1040
{
}

/// <summary>Runs before every request on an existing upload (HEAD, PATCH, GET, DELETE) and, for the creation of a final
/// upload, once for each partial upload it names. Reject to refuse the request (403 by default).</summary>
public interface ITusAuthorizeHook : ITusHook
{
    /// <summary>Decides whether the request may proceed; call <see cref="TusRejectableHookContext.Reject()"/> to refuse it.</summary>
    /// <param name="context">The request, what it intends, and the upload it concerns.</param>
    /// <param name="cancellationToken">Fires when the client goes away or the hook times out.</param>
    ValueTask OnAuthorizeAsync(AuthorizeContext context, CancellationToken cancellationToken);
}

/// <summary>Runs before an upload is created: may reject it, change its id or replace its metadata.</summary>
public interface ITusPreCreateHook : ITusHook
{
    /// <summary>Inspects, changes or rejects the upload about to be created.</summary>
    /// <param name="context">The upload about to be created and the request.</param>
    /// <param name="cancellationToken">Fires when the client goes away or the hook times out.</param>
    ValueTask OnPreCreateAsync(PreCreateContext context, CancellationToken cancellationToken);
}

/// <summary>Runs in the background after an upload was created.</summary>
public interface ITusPostCreateHook : ITusHook
{
    /// <summary>Reacts to a new upload.</summary>
    /// <param name="context">The upload and the request that created it.</param>
    /// <param name="cancellationToken">Fires when the post-hook timeout runs out or the engine stops.</param>
    ValueTask OnPostCreateAsync(UploadEventContext context, CancellationToken cancellationToken);
}

/// <summary>
/// Runs in the background while bytes arrive, every <see cref="TusHookOptions.ProgressInterval"/> at most and once when a
/// request's body ends; may stop the request (its bytes kept).
/// </summary>
public interface ITusPostReceiveHook : ITusHook
{
    /// <summary>Reacts to progress; call <see cref="PostReceiveContext.StopUpload"/> to end the request still writing.</summary>
    /// <param name="context">The upload with the bytes received so far.</param>
    /// <param name="cancellationToken">Fires when the post-hook timeout runs out or the engine stops.</param>
    ValueTask OnPostReceiveAsync(PostReceiveContext context, CancellationToken cancellationToken);
}

/// <summary>Runs on the request path once an upload has all its bytes, before the response is sent: may add headers and a
/// body to that response.</summary>
public interface ITusPreFinishHook : ITusHook
{
    /// <summary>Inspects the finished upload and shapes the response of the request that finished it.</summary>
    /// <param name="context">The finished upload and the request.</param>
    /// <param name="cancellationToken">Fires when the client goes away or the hook times out.</param>
    ValueTask OnPreFinishAsync(PreFinishContext context, CancellationToken cancellationToken);
}

/// <summary>Runs in the background after an upload was finished (and after its pre-finish hooks).</summary>
public interface ITusPostFinishHook : ITusHook
{
    /// <summary>Reacts to a finished upload, for example by starting its processing.</summary>
    /// <param name="context">The finished upload and the request that finished it.</param>
    /// <param name="cancellationToken">Fires when the post-hook timeout runs out or the engine stops.</param>
    ValueTask OnPostFinishAsync(UploadEventContext context, CancellationToken cancellationToken);
}

/// <summary>Runs before an upload is terminated (DELETE): may reject the termination.</summary>
public interface ITusPreTerminateHook : ITusHook
{
    /// <summary>Decides whether the upload may be deleted; call <see cref="TusRejectableHookContext.Reject()"/> to keep it.</summary>
    /// <param name="context">The upload and the request.</param>
    /// <param name="cancellationToken">Fires when the client goes away or the hook times out.</param>
    ValueTask OnPreTerminateAsync(PreTerminateContext context, CancellationToken cancellationToken);
}

/// <summary>Runs in the background after an upload was terminated.</summary>
public interface ITusPostTerminateHook : ITusHook
{
    /// <summary>Reacts to a terminated upload, for example by releasing what was allocated for it.</summary>
    /// <param name="context">The upload as it was before deletion, and the request.</param>
    /// <param name="cancellationToken">Fires when the post-hook timeout runs out or the engine stops.</param>
    ValueTask OnPostTerminateAsync(UploadEventContext context, CancellationToken cancellationToken);
}
