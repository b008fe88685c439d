using Tus.Hooks;

namespace Tus.Core.Tests.Infrastructure;

/// <summary>One-event hooks from delegates, for tests that build the engine without DI.</summary>
internal static class Hook
{
    internal sealed class Authorize(Func<AuthorizeContext, CancellationToken, ValueTask> handler) : ITusAuthorizeHook
    {
        public ValueTask OnAuthorizeAsync(AuthorizeContext context, CancellationToken cancellationToken) => handler(context, cancellationToken);
    }

    internal sealed class PreCreate(Func<PreCreateContext, CancellationToken, ValueTask> handler) : ITusPreCreateHook
    {
        public ValueTask OnPreCreateAsync(PreCreateContext context, CancellationToken cancellationToken) => handler(context, cancellationToken);
    }

    internal sealed class PostCreate(Func<UploadEventContext, CancellationToken, ValueTask> handler) : ITusPostCreateHook
    {
        public ValueTask OnPostCreateAsync(UploadEventContext context, CancellationToken cancellationToken) => handler(context, cancellationToken);
    }

    internal sealed class PostFinish(Func<UploadEventContext, CancellationToken, ValueTask> handler) : ITusPostFinishHook
    {
        public ValueTask OnPostFinishAsync(UploadEventContext context, CancellationToken cancellationToken) => handler(context, cancellationToken);
    }

    internal sealed class PostTerminate(Func<UploadEventContext, CancellationToken, ValueTask> handler) : ITusPostTerminateHook
    {
        public ValueTask OnPostTerminateAsync(UploadEventContext context, CancellationToken cancellationToken) => handler(context, cancellationToken);
    }
}
