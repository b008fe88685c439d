using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Tus.Engine;
using Tus.Http;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Hooks;

/// <summary>How one hook call ended.</summary>
internal enum HookOutcome
{
    /// <summary>It returned and let the request proceed.</summary>
    Succeeded,

    /// <summary>It refused the request (authorize, pre-create, pre-terminate).</summary>
    Rejected,

    /// <summary>It threw.</summary>
    Failed,

    /// <summary>It ran out of time.</summary>
    TimedOut,

    /// <summary>A post-hook event found the queue full and was not run.</summary>
    Dropped,

    /// <summary>The client went away (pre-hooks) or the engine stopped (post-hooks) before it ended.</summary>
    Cancelled,
}

/// <summary>What a pre-hook chain decided.</summary>
internal enum PreHookVerdict
{
    Proceed,
    Rejected,
    Failed,
}

/// <summary>A post-hook event waiting in the queue, with the trace of the request that raised it.</summary>
internal readonly record struct PostHookEvent(string Name, TusHookContext Context, ActivityContext? Trace);

/// <summary>What hooks asked of one request's response, kept until the engine has its answer.</summary>
internal sealed class HookRequestState
{
    public TusHookRequest? Snapshot { get; set; }

    /// <summary>Replaces the answer: a pre-finish hook failed.</summary>
    public TusError? Error { get; set; }

    /// <summary>Headers, body and status that pre-create, pre-finish and stopping post-receive hooks set.</summary>
    public TusHookResponse? Changes { get; set; }

    public void AddChanges(TusHookResponse changes)
    {
        if (changes.IsEmpty)
        {
            return;
        }

        (Changes ??= new TusHookResponse()).MergeFrom(changes);
    }
}

/// <summary>
/// Runs the registered hooks: pre-hooks inline with a timeout, post-hooks through a bounded queue in the background,
/// one upload's events in order. Every hook call ends in <see cref="Completed"/>.
/// </summary>
internal sealed partial class HookRunner : IDisposable
{
    private readonly EngineContext _engine;
    private readonly TusHookOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ITusAuthorizeHook[] _authorize;
    private readonly ITusPreCreateHook[] _preCreate;
    private readonly ITusPostCreateHook[] _postCreate;
    private readonly ITusPostReceiveHook[] _postReceive;
    private readonly ITusPreFinishHook[] _preFinish;
    private readonly ITusPostFinishHook[] _postFinish;
    private readonly ITusPreTerminateHook[] _preTerminate;
    private readonly ITusPostTerminateHook[] _postTerminate;
    private readonly Channel<PostHookEvent>[] _queues;
    private readonly Task[] _workers;
    private readonly CancellationTokenSource _stopping = new();
    private long _preHookFailures;
    private long _postHookFailures;
    private long _postHookDropped;
    private long _queued;

    public HookRunner(EngineContext engine, IEnumerable<ITusHook> hooks)
    {
        _engine = engine;
        _options = engine.Options.Hooks;
        _logger = engine.Logger;
        _time = engine.Time;
        var all = hooks.ToArray();
        _authorize = all.OfType<ITusAuthorizeHook>().ToArray();
        _preCreate = all.OfType<ITusPreCreateHook>().ToArray();
        _postCreate = all.OfType<ITusPostCreateHook>().ToArray();
        _postReceive = all.OfType<ITusPostReceiveHook>().ToArray();
        _preFinish = all.OfType<ITusPreFinishHook>().ToArray();
        _postFinish = all.OfType<ITusPostFinishHook>().ToArray();
        _preTerminate = all.OfType<ITusPreTerminateHook>().ToArray();
        _postTerminate = all.OfType<ITusPostTerminateHook>().ToArray();

        var hasPostHooks = _postCreate.Length + _postReceive.Length + _postFinish.Length + _postTerminate.Length > 0;
        var partitions = hasPostHooks ? _options.PostHookConcurrency : 0;
        _queues = new Channel<PostHookEvent>[partitions];
        _workers = new Task[partitions];
        for (var i = 0; i < partitions; i++)
        {
            // The capacity is the process's: shared out between the partitions.
            var capacity = Math.Max(1, _options.PostHookQueueCapacity / partitions);
            _queues[i] = Channel.CreateBounded<PostHookEvent>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
            var reader = _queues[i].Reader;
            _workers[i] = Task.Run(() => RunQueueAsync(reader));
        }
    }

    /// <summary>Pre-hooks that threw or timed out, since start.</summary>
    public long PreHookFailures => Interlocked.Read(ref _preHookFailures);

    /// <summary>Post-hook calls that threw or timed out, since start.</summary>
    public long PostHookFailures => Interlocked.Read(ref _postHookFailures);

    /// <summary>Post-hook events dropped because the queue was full (or the engine had stopped), since start.</summary>
    public long PostHookDropped => Interlocked.Read(ref _postHookDropped);

    public bool HasPostReceiveHooks => _postReceive.Length > 0;

    /// <summary>
    /// The one place where every hook call ends, with its event, outcome and duration: the place to count hook calls
    /// and failures.
    /// </summary>
    private void Completed(string hookEvent, HookOutcome outcome, TimeSpan duration)
    {
        switch (outcome)
        {
            case HookOutcome.Failed or HookOutcome.TimedOut when hookEvent is HookEvents.Authorize or HookEvents.PreCreate or HookEvents.PreFinish or HookEvents.PreTerminate:
                Interlocked.Increment(ref _preHookFailures);
                break;
            case HookOutcome.Failed or HookOutcome.TimedOut:
                Interlocked.Increment(ref _postHookFailures);
                break;
            case HookOutcome.Dropped:
                Interlocked.Increment(ref _postHookDropped);
                break;
        }

        LogCompleted(_logger, hookEvent, outcome, duration.TotalMilliseconds);
    }

    // ---- Pre-hooks: on the request path ----

    /// <summary>Runs the authorize hooks for a request on an existing upload; <see langword="false"/> when the response
    /// was set to a refusal.</summary>
    public async ValueTask<bool> AuthorizeAsync(TusRequest request, TusResponse response, TusIntent intent, string uploadId)
    {
        if (_authorize.Length == 0)
        {
            return true;
        }

        // Read without the lock: taking it would interrupt the owner's upload on behalf of someone who may be refused.
        UploadInfo? upload;
        using (var call = _engine.StoreCall(request.Aborted))
        {
            upload = await call.AwaitLookup(_engine.Store.GetAsync(uploadId, call.Token)).ConfigureAwait(false);
        }

        // No upload: the handler answers 404 as it would to anyone.
        return upload is null || await AuthorizeUploadAsync(request, response, intent, upload).ConfigureAwait(false);
    }

    /// <summary>Runs the authorize hooks once for each partial upload a final upload names.</summary>
    public async ValueTask<bool> AuthorizePartialsAsync(TusRequest request, TusResponse response, IReadOnlyList<string> partialIds)
    {
        foreach (var id in _authorize.Length == 0 ? [] : partialIds)
        {
            if (!await AuthorizeAsync(request, response, TusIntent.Concatenate, id).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    private async ValueTask<bool> AuthorizeUploadAsync(TusRequest request, TusResponse response, TusIntent intent, UploadInfo upload)
    {
        var context = new AuthorizeContext(SnapshotOf(request), request.Services, intent, upload);
        var verdict = await RunPreAsync(HookEvents.Authorize, _authorize, context, static (h, c, ct) => h.OnAuthorizeAsync(c, ct), request, upload.Id).ConfigureAwait(false);
        return Answer(request, response, verdict, context);
    }

    /// <summary>Runs the pre-create hooks; returns the upload to create (id and metadata as the hooks left them), or
    /// <see langword="null"/> when the response was set to a refusal.</summary>
    public async ValueTask<NewUpload?> PreCreateAsync(TusRequest request, TusResponse response, NewUpload upload)
    {
        if (_preCreate.Length == 0)
        {
            return upload;
        }

        var context = new PreCreateContext(SnapshotOf(request), request.Services, upload);
        var verdict = await RunPreAsync(HookEvents.PreCreate, _preCreate, context, static (h, c, ct) => h.OnPreCreateAsync(c, ct), request, upload.Id).ConfigureAwait(false);
        if (!Answer(request, response, verdict, context))
        {
            return null;
        }

        StateOf(request).AddChanges(context.Response);
        return upload with { Id = context.UploadId, Metadata = context.Metadata };
    }

    /// <summary>Runs the pre-terminate hooks; <see langword="false"/> when the response was set to a refusal.</summary>
    public async ValueTask<bool> PreTerminateAsync(TusRequest request, TusResponse response, UploadInfo upload)
    {
        if (_preTerminate.Length == 0)
        {
            return true;
        }

        var context = new PreTerminateContext(SnapshotOf(request), request.Services, upload);
        var verdict = await RunPreAsync(HookEvents.PreTerminate, _preTerminate, context, static (h, c, ct) => h.OnPreTerminateAsync(c, ct), request, upload.Id).ConfigureAwait(false);
        return Answer(request, response, verdict, context);
    }

    /// <summary>An upload got its last byte: runs the pre-finish hooks, then queues the post-finish event. When a
    /// pre-finish hook fails, the request is answered with the failure error and no post-finish follows (as in tusd).</summary>
    public async ValueTask FinishAsync(TusRequest request, UploadInfo upload)
    {
        if (_preFinish.Length > 0)
        {
            var context = new PreFinishContext(SnapshotOf(request), request.Services, upload);
            var verdict = await RunPreAsync(HookEvents.PreFinish, _preFinish, context, static (h, c, ct) => h.OnPreFinishAsync(c, ct), request, upload.Id).ConfigureAwait(false);
            if (verdict == PreHookVerdict.Failed)
            {
                StateOf(request).Error = _options.FailureError;
                return;
            }

            StateOf(request).AddChanges(context.Response);
        }

        if (_postFinish.Length > 0)
        {
            Enqueue(HookEvents.PostFinish, new UploadEventContext(SnapshotOf(request), upload), upload.Id);
        }
    }

    /// <summary>
    /// Runs a chain of pre-hooks in registration order, each call bounded by the pre-hook timeout, stopping at the first
    /// refusal. A client that goes away cancels the chain (the exception propagates, as for any request).
    /// </summary>
    private async ValueTask<PreHookVerdict> RunPreAsync<THook, TContext>(string hookEvent, THook[] hooks, TContext context, Func<THook, TContext, CancellationToken, ValueTask> call, TusRequest request, string uploadId)
        where TContext : TusPreHookContext
    {
        foreach (var hook in hooks)
        {
            var started = _time.GetTimestamp();
            using var timeout = new CancellationTokenSource(_options.PreHookTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, request.Aborted);
            try
            {
                var pending = call(hook, context, linked.Token);
                if (!pending.IsCompletedSuccessfully)
                {
                    // Bounded even for a hook that ignores its token.
                    await pending.AsTask().WaitAsync(_options.PreHookTimeout, _time, request.Aborted).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (request.Aborted.IsCancellationRequested)
            {
                Completed(hookEvent, HookOutcome.Cancelled, _time.GetElapsedTime(started));
                throw;
            }
            catch (Exception exception) when (exception is TimeoutException || (exception is OperationCanceledException && timeout.IsCancellationRequested))
            {
                Completed(hookEvent, HookOutcome.TimedOut, _time.GetElapsedTime(started));
                LogPreHookTimedOut(_logger, hookEvent, uploadId, _options.PreHookTimeout.TotalMilliseconds);
                return PreHookVerdict.Failed;
            }
#pragma warning disable CA1031 // Whatever a hook throws becomes the configured failure answer; the exception is logged, never sent.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                Completed(hookEvent, HookOutcome.Failed, _time.GetElapsedTime(started));
                LogPreHookFailed(_logger, exception, hookEvent, uploadId);
                return PreHookVerdict.Failed;
            }

            if (context is TusRejectableHookContext { IsRejected: true })
            {
                Completed(hookEvent, HookOutcome.Rejected, _time.GetElapsedTime(started));
                return PreHookVerdict.Rejected;
            }

            Completed(hookEvent, HookOutcome.Succeeded, _time.GetElapsedTime(started));
        }

        return PreHookVerdict.Proceed;
    }

    /// <summary>Turns a refusal or a failure into the response; <see langword="true"/> when the request may proceed.</summary>
    private bool Answer(TusRequest request, TusResponse response, PreHookVerdict verdict, TusRejectableHookContext context)
    {
        var withBody = EffectiveMethodOf(request) != "HEAD";
        switch (verdict)
        {
            case PreHookVerdict.Rejected:
                Log.Rejected(_logger, request.Method, request.ResourcePath, context.Rejection!.Code);
                response.Fail(context.Rejection, withBody);
                Apply(response, context.Response, withBody);
                return false;
            case PreHookVerdict.Failed:
                response.Fail(_options.FailureError, withBody);
                return false;
            default:
                return true;
        }
    }

    /// <summary>Applies what hooks asked of this request's response, once the engine has its answer.</summary>
    public void ApplyResponseChanges(TusRequest request, TusResponse response)
    {
        if (request.HookState is not { } state)
        {
            return;
        }

        var withBody = EffectiveMethodOf(request) != "HEAD";
        if (state.Error is { } error)
        {
            response.Fail(error, withBody);
            return;
        }

        if (state.Changes is { } changes)
        {
            Apply(response, changes, withBody);
        }
    }

    private void Apply(TusResponse response, TusHookResponse changes, bool withBody)
    {
        if (changes.StatusCode is { } status)
        {
            if (response.Error is null ? status is >= 200 and < 300 : status is >= 400 and < 600)
            {
                response.StatusCode = status;
            }
            else
            {
                LogStatusIgnored(_logger, status, response.StatusCode);
            }
        }

        foreach (var (name, value) in changes.Headers)
        {
            if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && !name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                response.SetHeader(name, value);
            }
        }

        if (changes.Body is { } body && withBody && response.BodyStream is null)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            response.Body = bytes;
            response.ContentLength = bytes.Length;
            if (response.GetHeader("Content-Type") is null)
            {
                response.SetHeader("Content-Type", "text/plain; charset=utf-8");
            }

            if (response.StatusCode == 204 && bytes.Length > 0)
            {
                // 204 forbids a body.
                response.StatusCode = 200;
            }
        }
    }

    // ---- Post-hooks: in the background ----

    public void PostCreate(TusRequest request, UploadInfo upload)
    {
        if (_postCreate.Length > 0)
        {
            Enqueue(HookEvents.PostCreate, new UploadEventContext(SnapshotOf(request), upload), upload.Id);
        }
    }

    public void PostTerminate(TusRequest request, UploadInfo upload)
    {
        if (_postTerminate.Length > 0)
        {
            Enqueue(HookEvents.PostTerminate, new UploadEventContext(SnapshotOf(request), upload), upload.Id);
        }
    }

    /// <summary>Starts reporting the progress of one request's body to the post-receive hooks; <see langword="null"/> when
    /// there are none.</summary>
    /// <param name="request">The request writing.</param>
    /// <param name="upload">The upload before the write.</param>
    /// <param name="releaseRequested">The lock's release request, which the returned reporter's
    /// <see cref="ProgressReporter.Interruption"/> combines with a post-receive hook's stop.</param>
    public ProgressReporter? TrackProgress(TusRequest request, UploadInfo upload, CancellationToken releaseRequested) =>
        _postReceive.Length == 0 ? null : new ProgressReporter(this, SnapshotOf(request), upload, _time, _options.ProgressInterval, releaseRequested);

    internal static void RecordStop(TusRequest request, TusHookResponse changes) => StateOf(request).AddChanges(changes);

    internal void PostReceive(TusHookRequest request, UploadInfo upload, ProgressReporter? reporter) =>
        Enqueue(HookEvents.PostReceive, new PostReceiveContext(request, upload, reporter), upload.Id);

    private void Enqueue(string hookEvent, TusHookContext context, string uploadId)
    {
        // One upload's events always go to the same queue, whose single reader runs them in order.
        var queue = _queues[(int)((uint)StringComparer.Ordinal.GetHashCode(uploadId) % (uint)_queues.Length)];
        Interlocked.Increment(ref _queued);
        if (!queue.Writer.TryWrite(new PostHookEvent(hookEvent, context, Activity.Current?.Context)))
        {
            Interlocked.Decrement(ref _queued);
            Completed(hookEvent, HookOutcome.Dropped, TimeSpan.Zero);
            LogDropped(_logger, hookEvent, uploadId, _options.PostHookQueueCapacity);
        }
    }

    private async Task RunQueueAsync(ChannelReader<PostHookEvent> reader)
    {
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                // The request's trace goes on in its post-hooks (an HttpClient they use sends its traceparent). Its
                // activity has stopped by now, so a child of it stands in.
                using var trace = item.Trace is { } parent
                    ? new Activity("Tus.PostHook").SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags).Start()
                    : null;
                try
                {
                    await RunEventAsync(item).ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Decrement(ref _queued);
                }
            }
        }
    }

    private async ValueTask RunEventAsync(PostHookEvent item)
    {
        if (_stopping.IsCancellationRequested)
        {
            Completed(item.Name, HookOutcome.Dropped, TimeSpan.Zero);
            return;
        }

        switch (item.Context)
        {
            case UploadEventContext created when item.Name == HookEvents.PostCreate:
                await RunPostAsync(item.Name, _postCreate, created, created.Upload.Id, static (h, c, ct) => h.OnPostCreateAsync(c, ct)).ConfigureAwait(false);
                break;
            case UploadEventContext finished when item.Name == HookEvents.PostFinish:
                await RunPostAsync(item.Name, _postFinish, finished, finished.Upload.Id, static (h, c, ct) => h.OnPostFinishAsync(c, ct)).ConfigureAwait(false);
                break;
            case UploadEventContext terminated:
                await RunPostAsync(item.Name, _postTerminate, terminated, terminated.Upload.Id, static (h, c, ct) => h.OnPostTerminateAsync(c, ct)).ConfigureAwait(false);
                break;
            case PostReceiveContext received:
                await RunPostAsync(item.Name, _postReceive, received, received.Upload.Id, static (h, c, ct) => h.OnPostReceiveAsync(c, ct)).ConfigureAwait(false);
                break;
        }
    }

    private async ValueTask RunPostAsync<THook, TContext>(string hookEvent, THook[] hooks, TContext context, string uploadId, Func<THook, TContext, CancellationToken, ValueTask> call)
    {
        foreach (var hook in hooks)
        {
            var started = _time.GetTimestamp();
            using var timeout = new CancellationTokenSource(_options.PostHookTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _stopping.Token);
            try
            {
                var pending = call(hook, context, linked.Token);
                if (!pending.IsCompletedSuccessfully)
                {
                    await pending.AsTask().WaitAsync(_options.PostHookTimeout, _time, _stopping.Token).ConfigureAwait(false);
                }

                Completed(hookEvent, HookOutcome.Succeeded, _time.GetElapsedTime(started));
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                Completed(hookEvent, HookOutcome.Cancelled, _time.GetElapsedTime(started));
                return;
            }
            catch (Exception exception) when (exception is TimeoutException || (exception is OperationCanceledException && timeout.IsCancellationRequested))
            {
                Completed(hookEvent, HookOutcome.TimedOut, _time.GetElapsedTime(started));
                LogPostHookTimedOut(_logger, hookEvent, uploadId, _options.PostHookTimeout.TotalMilliseconds);
            }
#pragma warning disable CA1031 // A post-hook's failure is logged and counted; the upload it reports on is stored already.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                Completed(hookEvent, HookOutcome.Failed, _time.GetElapsedTime(started));
                LogPostHookFailed(_logger, exception, hookEvent, uploadId);
            }
        }
    }

    /// <summary>Lets the queued post-hook events run to their end; when <paramref name="cancellationToken"/> fires first,
    /// the ones still waiting are dropped and the running ones cancelled.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        try
        {
            await Task.WhenAll(_workers).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Waits until every event queued so far has run (for tests).</summary>
    internal async Task WaitForIdleAsync(CancellationToken cancellationToken)
    {
        while (Interlocked.Read(ref _queued) > 0)
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        // Cancelled, not disposed: workers still finishing read its token.
        _stopping.Cancel();
    }

    // ---- The request as hooks see it ----

    private static HookRequestState StateOf(TusRequest request) => request.HookState ??= new HookRequestState();

    private static string EffectiveMethodOf(TusRequest request) => RequestDispatcher.EffectiveMethod(request);

    /// <summary>The request as hooks see it, made once per request.</summary>
    private static TusHookRequest SnapshotOf(TusRequest request)
    {
        var state = StateOf(request);
        return state.Snapshot ??= new TusHookRequest(
            EffectiveMethodOf(request),
            request.EndpointPath + request.ResourcePath,
            request.RemoteEndPoint,
            request.EnumerateHeaders().ToArray(),
            request.User);
    }

    [LoggerMessage(30, LogLevel.Debug, "Hook {Event} ended: {Outcome} after {DurationMs} ms")]
    private static partial void LogCompleted(ILogger logger, string @event, HookOutcome outcome, double durationMs);

    [LoggerMessage(31, LogLevel.Error, "The {Event} hook for upload {UploadId} failed; the request is answered with the hook failure error")]
    private static partial void LogPreHookFailed(ILogger logger, Exception exception, string @event, string uploadId);

    [LoggerMessage(32, LogLevel.Error, "The {Event} hook for upload {UploadId} did not answer within {TimeoutMs} ms; the request is answered with the hook failure error")]
    private static partial void LogPreHookTimedOut(ILogger logger, string @event, string uploadId, double timeoutMs);

    [LoggerMessage(33, LogLevel.Warning, "The {Event} hook for upload {UploadId} failed; the upload is not affected")]
    private static partial void LogPostHookFailed(ILogger logger, Exception exception, string @event, string uploadId);

    [LoggerMessage(34, LogLevel.Warning, "The {Event} hook for upload {UploadId} did not finish within {TimeoutMs} ms and was abandoned")]
    private static partial void LogPostHookTimedOut(ILogger logger, string @event, string uploadId, double timeoutMs);

    [LoggerMessage(35, LogLevel.Warning, "The post-hook queue is full ({Capacity} events): the {Event} event of upload {UploadId} was dropped")]
    private static partial void LogDropped(ILogger logger, string @event, string uploadId, int capacity);

    [LoggerMessage(36, LogLevel.Debug, "A hook's status code {Status} does not fit a {Current} response and was ignored")]
    private static partial void LogStatusIgnored(ILogger logger, int status, int current);
}
