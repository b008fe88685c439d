using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Tus;
using Tus.Hooks;

// In the framework's namespace, like AddTus(), so that the builder's methods need no using directive.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers hooks on the builder returned by <c>services.AddTus()</c>.</summary>
public static class TusHookBuilderExtensions
{
    /// <summary>
    /// Registers a hook class, created once from the container (a singleton: for scoped services, use
    /// <see cref="TusPreHookContext.Services"/> in pre-hooks or an <see cref="IServiceScopeFactory"/>). It handles every
    /// event whose interface it implements (<see cref="ITusPreCreateHook"/>, <see cref="ITusPostFinishHook"/>, ...).
    /// Adding the same type twice adds it once.
    /// </summary>
    /// <typeparam name="THooks">The hook class.</typeparam>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder AddHooks<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THooks>(this ITusBuilder builder)
        where THooks : class, ITusHook
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ITusHook, THooks>());
        return builder;
    }

    /// <summary>Registers a hook instance; it handles every event whose interface it implements.</summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="hooks">The hook handler.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder AddHooks(this ITusBuilder builder, ITusHook hooks)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(hooks);
        builder.Services.AddSingleton(hooks);
        return builder;
    }

    /// <summary>Runs <paramref name="handler"/> before every request on an existing upload (see <see cref="ITusAuthorizeHook"/>).</summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="handler">Calls <c>context.Reject()</c> to refuse the request.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder OnAuthorize(this ITusBuilder builder, Func<AuthorizeContext, CancellationToken, ValueTask> handler) =>
        builder.AddHooks(new DelegateHooks.Authorize(handler));

    /// <summary>Runs <paramref name="handler"/> before an upload is created (see <see cref="ITusPreCreateHook"/>).</summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="handler">May change <c>context.UploadId</c> and <c>context.Metadata</c>, or call <c>context.Reject()</c>.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder OnPreCreate(this ITusBuilder builder, Func<PreCreateContext, CancellationToken, ValueTask> handler) =>
        builder.AddHooks(new DelegateHooks.PreCreate(handler));

    /// <summary>Runs <paramref name="handler"/> in the background after an upload was created.</summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="handler">The handler.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder OnPostCreate(this ITusBuilder builder, Func<UploadEventContext, CancellationToken, ValueTask> handler) =>
        builder.AddHooks(new DelegateHooks.PostCreate(handler));

    /// <summary>Runs <paramref name="handler"/> in the background as bytes arrive (see <see cref="ITusPostReceiveHook"/>).</summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="handler">May call <c>context.StopUpload()</c>.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder OnPostReceive(this ITusBuilder builder, Func<PostReceiveContext, CancellationToken, ValueTask> handler) =>
        builder.AddHooks(new DelegateHooks.PostReceive(handler));

    /// <summary>Runs <paramref name="handler"/> once an upload has all its bytes, before the response (see <see cref="ITusPreFinishHook"/>).</summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="handler">May set <c>context.Response</c>.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder OnPreFinish(this ITusBuilder builder, Func<PreFinishContext, CancellationToken, ValueTask> handler) =>
        builder.AddHooks(new DelegateHooks.PreFinish(handler));

    /// <summary>Runs <paramref name="handler"/> in the background after an upload was finished.</summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="handler">The handler.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder OnPostFinish(this ITusBuilder builder, Func<UploadEventContext, CancellationToken, ValueTask> handler) =>
        builder.AddHooks(new DelegateHooks.PostFinish(handler));

    /// <summary>Runs <paramref name="handler"/> before an upload is terminated (see <see cref="ITusPreTerminateHook"/>).</summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="handler">Calls <c>context.Reject()</c> to keep the upload.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder OnPreTerminate(this ITusBuilder builder, Func<PreTerminateContext, CancellationToken, ValueTask> handler) =>
        builder.AddHooks(new DelegateHooks.PreTerminate(handler));

    /// <summary>Runs <paramref name="handler"/> in the background after an upload was terminated.</summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="handler">The handler.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder OnPostTerminate(this ITusBuilder builder, Func<UploadEventContext, CancellationToken, ValueTask> handler) =>
        builder.AddHooks(new DelegateHooks.PostTerminate(handler));
}
