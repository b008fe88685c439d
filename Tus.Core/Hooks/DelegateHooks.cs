namespace Tus.Hooks;

/// <summary>The hooks behind the builder's delegate shortcuts (<c>.OnPreCreate(...)</c> and friends).</summary>
internal static class DelegateHooks
{
    internal sealed class Authorize(Func<AuthorizeContext, CancellationToken, ValueTask> handler) : ITusAuthorizeHook
    {
        private readonly Func<AuthorizeContext, CancellationToken, ValueTask> _handler = handler ?? throw new ArgumentNullException(nameof(handler));

        public ValueTask OnAuthorizeAsync(AuthorizeContext context, CancellationToken cancellationToken) => _handler(context, cancellationToken);
    }

    internal sealed class PreCreate(Func<PreCreateContext, CancellationToken, ValueTask> handler) : ITusPreCreateHook
    {
        private readonly Func<PreCreateContext, CancellationToken, ValueTask> _handler = handler ?? throw new ArgumentNullException(nameof(handler));

        public ValueTask OnPreCreateAsync(PreCreateContext context, CancellationToken cancellationToken) => _handler(context, cancellationToken);
    }

    internal sealed class PostCreate(Func<UploadEventContext, CancellationToken, ValueTask> handler) : ITusPostCreateHook
    {
        private readonly Func<UploadEventContext, CancellationToken, ValueTask> _handler = handler ?? throw new ArgumentNullException(nameof(handler));

        public ValueTask OnPostCreateAsync(UploadEventContext context, CancellationToken cancellationToken) => _handler(context, cancellationToken);
    }

    internal sealed class PostReceive(Func<PostReceiveContext, CancellationToken, ValueTask> handler) : ITusPostReceiveHook
    {
        private readonly Func<PostReceiveContext, CancellationToken, ValueTask> _handler = handler ?? throw new ArgumentNullException(nameof(handler));

        public ValueTask OnPostReceiveAsync(PostReceiveContext context, CancellationToken cancellationToken) => _handler(context, cancellationToken);
    }

    internal sealed class PreFinish(Func<PreFinishContext, CancellationToken, ValueTask> handler) : ITusPreFinishHook
    {
        private readonly Func<PreFinishContext, CancellationToken, ValueTask> _handler = handler ?? throw new ArgumentNullException(nameof(handler));

        public ValueTask OnPreFinishAsync(PreFinishContext context, CancellationToken cancellationToken) => _handler(context, cancellationToken);
    }

    internal sealed class PostFinish(Func<UploadEventContext, CancellationToken, ValueTask> handler) : ITusPostFinishHook
    {
        private readonly Func<UploadEventContext, CancellationToken, ValueTask> _handler = handler ?? throw new ArgumentNullException(nameof(handler));

        public ValueTask OnPostFinishAsync(UploadEventContext context, CancellationToken cancellationToken) => _handler(context, cancellationToken);
    }

    internal sealed class PreTerminate(Func<PreTerminateContext, CancellationToken, ValueTask> handler) : ITusPreTerminateHook
    {
        private readonly Func<PreTerminateContext, CancellationToken, ValueTask> _handler = handler ?? throw new ArgumentNullException(nameof(handler));

        public ValueTask OnPreTerminateAsync(PreTerminateContext context, CancellationToken cancellationToken) => _handler(context, cancellationToken);
    }

    internal sealed class PostTerminate(Func<UploadEventContext, CancellationToken, ValueTask> handler) : ITusPostTerminateHook
    {
        private readonly Func<UploadEventContext, CancellationToken, ValueTask> _handler = handler ?? throw new ArgumentNullException(nameof(handler));

        public ValueTask OnPostTerminateAsync(UploadEventContext context, CancellationToken cancellationToken) => _handler(context, cancellationToken);
    }
}
