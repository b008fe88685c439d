using Tus.Engine;
using Tus.Stores;

namespace Tus.Hooks;

/// <summary>
/// Reports the progress of one request's body to the post-receive hooks, every progress interval while bytes arrive and
/// once when the body ends, and lets a hook stop that request: its <see cref="Interruption"/> fires like a release
/// request, so the body ends cleanly and the store keeps what arrived.
/// </summary>
internal sealed class ProgressReporter : IDisposable
{
    private readonly HookRunner _runner;
    private readonly TusHookRequest _request;
    private readonly UploadInfo _upload;
    private readonly CancellationTokenSource _interrupt;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly object _gate = new();
    private ITimer? _timer;
    private RequestBodyStream? _body;
    private long _reported;
    private bool _ended;
    private TusHookResponse? _stop;

    public ProgressReporter(HookRunner runner, TusHookRequest request, UploadInfo upload, TimeProvider time, TimeSpan interval, CancellationToken releaseRequested)
    {
        _runner = runner;
        _request = request;
        _upload = upload;
        _time = time;
        _interval = interval;
        _reported = upload.Offset;
        _interrupt = CancellationTokenSource.CreateLinkedTokenSource(releaseRequested);
    }

    /// <summary>Fires when the lock is asked for or a post-receive hook stops the upload.</summary>
    public CancellationToken Interruption => _interrupt.Token;

    /// <summary>Starts the periodic reports, reading the bytes received from <paramref name="body"/>.</summary>
    public void Start(RequestBodyStream body)
    {
        _body = body;
        _timer = _time.CreateTimer(static state => ((ProgressReporter)state!).Tick(), this, _interval, _interval);
    }

    private void Tick()
    {
        if (_body is not { } body)
        {
            return;
        }

        long offset;
        lock (_gate)
        {
            offset = _upload.Offset + body.BytesRead;
            if (_ended || offset <= _reported)
            {
                return;
            }

            _reported = offset;
        }

        _runner.PostReceive(_request, _upload with { Offset = offset }, this);
    }

    /// <summary>Asks the request to stop; <see langword="false"/> when it has ended already.</summary>
    public bool Stop(TusHookResponse response)
    {
        lock (_gate)
        {
            if (_ended)
            {
                return false;
            }

            _stop = new TusHookResponse();
            _stop.MergeFrom(response);
            _interrupt.Cancel();
            return true;
        }
    }

    /// <summary>
    /// Ends the reports with the upload as the write left it; returns <see langword="true"/> when a hook's stop is what
    /// interrupted the body (<paramref name="interrupted"/>), its response changes then recorded for the request.
    /// </summary>
    public bool Finish(Http.TusRequest request, UploadInfo written, bool interrupted)
    {
        bool report;
        TusHookResponse? stop;
        lock (_gate)
        {
            _ended = true;
            report = written.Offset > _reported;
            _reported = Math.Max(_reported, written.Offset);
            stop = _stop;
        }

        _timer?.Dispose();
        if (report)
        {
            _runner.PostReceive(_request, written, reporter: null);
        }

        if (stop is null || !interrupted)
        {
            return false;
        }

        HookRunner.RecordStop(request, stop);
        return true;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _ended = true;
        }

        _timer?.Dispose();
        _interrupt.Dispose();
    }
}
