using System.IO.Pipelines;
using System.Text;
using Tus.Core.Tests.Infrastructure;

namespace Tus.Core.Tests.Faults;

/// <summary>
/// However a body stops, the engine leaves the request's reader able to read again: the server drains what is left of the
/// body after the response, and Kestrel's reader refuses a read while an earlier one was never ended.
/// </summary>
public sealed class BodyReaderStateTests
{
    [Theory]
    [InlineData("release")]
    [InlineData("timeout")]
    [InlineData("lease")]
    [InlineData("shutdown")]
    [InlineData("abort")]
    public async Task Patch_BodyStopped_LeavesTheReaderReadable(string how)
    {
        using var harness = FaultHarness.Create(o => o.ReadTimeout = how == "timeout" ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(30));
        var id = await harness.CreateAsync(100);
        var pipe = new Pipe();
        var reader = new StrictReader(pipe.Reader);
        var request = TestRequest.WithReader("PATCH", id, reader, 100).OffsetStream().Header("Upload-Offset", "0");
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("abcde"), TestContext.Current.CancellationToken);
        var pending = harness.SendAsync(request);
        await reader.Waiting.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        switch (how)
        {
            case "release":
                _ = harness.HeadAsync(id);
                break;
            case "lease":
                harness.Locker.Granted.Last().Lose();
                break;
            case "shutdown":
                await harness.Stopping.CancelAsync();
                break;
            case "abort":
                await request.AbortSource.CancelAsync();
                break;
        }

        var response = await pending.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        response.StatusCode.Should().BeGreaterThanOrEqualTo(400);
        // After a lost lease nothing more is written; every other stop keeps what arrived.
        harness.Store.Inner.DataOf(id).Should().Equal(how == "lease" ? [] : Encoding.ASCII.GetBytes("abcde"));

        // What the server does after the response: read the rest of the body.
        await pipe.Writer.WriteAsync(new byte[3], TestContext.Current.CancellationToken);
        var drain = () => reader.ReadAsync(TestContext.Current.CancellationToken).AsTask();
        var result = (await drain.Should().NotThrowAsync("no read of the engine's may be left unfinished")).Subject;
        reader.AdvanceTo(result.Buffer.End);
    }

    /// <summary>
    /// A reader as strict as Kestrel's request body reader: a read is in progress from ReadAsync until AdvanceTo, and a
    /// read cancelled through its token is never ended, so the next ReadAsync throws.
    /// </summary>
    private sealed class StrictReader(PipeReader inner) : PipeReader
    {
        private bool _reading;

        public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            if (_reading)
            {
                throw new InvalidOperationException("Reading is already in progress.");
            }

            _reading = true;
            var read = inner.ReadAsync(cancellationToken);
            if (!read.IsCompleted)
            {
                Waiting.TrySetResult();
            }

            return await read;
        }

        public override bool TryRead(out ReadResult result) => throw new NotSupportedException();

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            _reading = false;
            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);
    }
}
